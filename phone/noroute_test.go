package phone

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestUnhandledMethodGets405WithAllow: SUBSCRIBE (which we do not do) and a made-up method of
// 12 KB get 405 with Allow (RFC 3261 §8.2.1), and no warning is logged. sipgo's own 405 had
// no Allow, and it warned with the method whole: 12 KB of log a datagram.
func TestUnhandledMethodGets405WithAllow(t *testing.T) {
	warns := &warnRecorder{}
	_, addr, _ := runPhone(t, Config{Logger: slog.New(warns)})
	conn, to := udpPeer(t, addr)
	long := strings.Repeat("X", 12000)
	for i, method := range []string{"SUBSCRIBE", long} {
		req := strings.ReplaceAll(scannerRequest("SUBSCRIBE", addr, "", 50+i), "SUBSCRIBE", method)
		res := exchange(t, conn, to, req, 2*time.Second)
		// The long one's answer repeats the method in its CSeq, past what exchange reads.
		if !strings.HasPrefix(res, "SIP/2.0 405 ") || method != long && !strings.Contains(headerValue(res, "Allow"), "INVITE") {
			t.Errorf("%.20s… answered %q: want 405 with Allow", method, firstLine(res))
		}
	}
	if w := warns.all(); len(w) > 0 {
		t.Errorf("warnings logged: %q", w)
	}
}

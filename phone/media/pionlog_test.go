package media

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// pion's TURN client logs reach the session's logger: its warnings and errors (a refresh that
// failed mid-call) at their level, its chatter at debug.
func TestPionLogsReachTheSessionLog(t *testing.T) {
	var buf bytes.Buffer
	l := pionLogs{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}.NewLogger("turnc")
	l.Errorf("fail to refresh permissions: %v", "timeout")
	l.Warn("channel bind failed")
	l.Infof("allocation %d", 1)
	l.Tracef("noise %d", 2)
	out := buf.String()
	for _, want := range []string{`level=ERROR msg="TURN: fail to refresh permissions: timeout" pion=turnc`, `level=WARN msg="TURN: channel bind failed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "allocation") || strings.Contains(out, "noise") {
		t.Errorf("pion's info or trace above debug:\n%s", out)
	}
}

package phone

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// scannerRequest is an out-of-dialog request as scanners send them.
func scannerRequest(method, to, ua string, n int) string {
	uaLine := ""
	if ua != "" {
		uaLine = "User-Agent: " + ua + "\r\n"
	}
	return fmt.Sprintf("%s sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-scan-%d;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=scan%d\r\nTo: <sip:100@%s>\r\nCall-ID: scan-%d\r\nCSeq: 1 %s\r\n"+
		"%sContact: <sip:100@127.0.0.1:5061>\r\nContent-Length: 0\r\n\r\n", method, to, n, to, n, to, n, method, uaLine)
}

// exchange sends req from conn to addr and returns the answer, "" when none came within wait.
func exchange(t *testing.T, conn *net.UDPConn, addr *net.UDPAddr, req string, wait time.Duration) string {
	t.Helper()
	if _, err := conn.WriteToUDP([]byte(req), addr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// headerValue is the value of header name in a SIP message, "" when absent.
func headerValue(msg, name string) string {
	for _, l := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// warnRecorder is a slog handler that keeps the messages of warnings and errors.
type warnRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnRecorder) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}
func (w *warnRecorder) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnRecorder) WithGroup(string) slog.Handler      { return w }

func (w *warnRecorder) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

// TestScannerRequestsGetCheapAnswers: OPTIONS gets 200 with Allow and Accept, REGISTER 405
// with Allow (a phone is no registrar), the same To tag for a retransmission; a request from
// a scanner's User-Agent gets nothing, and the phone still answers others afterwards. Before
// the screen, REGISTER got a 405 without Allow and a warning in the user's log, and scanners
// got answers.
func TestScannerRequestsGetCheapAnswers(t *testing.T) {
	warns := &warnRecorder{}
	p, addr, events := runPhone(t, Config{Logger: slog.New(warns)})
	_ = p
	conn, to := udpPeer(t, addr)

	opt := scannerRequest("OPTIONS", addr, "Linphone/5.2", 1)
	res := exchange(t, conn, to, opt, 2*time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 200 ") || !strings.Contains(headerValue(res, "Allow"), "INVITE") ||
		!strings.Contains(headerValue(res, "Accept"), "application/sdp") {
		t.Fatalf("OPTIONS answered %q: want 200 with Allow and Accept", res)
	}
	tag := headerValue(res, "To")
	if !strings.Contains(tag, ";tag=") {
		t.Fatalf("OPTIONS answer without a To tag: %q", res)
	}
	if again := exchange(t, conn, to, opt, 2*time.Second); headerValue(again, "To") != tag {
		t.Errorf("a retransmitted OPTIONS got To %q, the first %q: a stateless answer must not change", headerValue(again, "To"), tag)
	}
	if via := headerValue(res, "Via"); !strings.Contains(via, "received=127.0.0.1") {
		t.Errorf("Via %q: want rport and received filled in (RFC 3581)", via)
	}

	res = exchange(t, conn, to, scannerRequest("REGISTER", addr, "", 2), 2*time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 405 ") || !strings.Contains(headerValue(res, "Allow"), "INVITE") ||
		strings.Contains(headerValue(res, "Allow"), "REGISTER") {
		t.Fatalf("REGISTER answered %q: want 405 with an Allow header without REGISTER", res)
	}

	// One the screen leaves to the stack (its CSeq names another method) is answered alike.
	odd := strings.Replace(scannerRequest("REGISTER", addr, "", 3), "CSeq: 1 REGISTER", "CSeq: 1 OPTIONS", 1)
	if res := exchange(t, conn, to, odd, 2*time.Second); !strings.HasPrefix(res, "SIP/2.0 405 ") || headerValue(res, "Allow") == "" {
		t.Errorf("REGISTER through the stack answered %q: want 405 with Allow", res)
	}

	for i, c := range []struct{ method, ua string }{
		{"OPTIONS", "friendly-scanner"}, {"REGISTER", "sipvicious"}, {"INVITE", "friendly-scanner"},
		{"OPTIONS", "VaxSIPUserAgent/3.1"}, {"REGISTER", "SIPCLI/v1.8"},
	} {
		if res := exchange(t, conn, to, scannerRequest(c.method, addr, c.ua, 10+i), 300*time.Millisecond); res != "" {
			t.Errorf("%s from %q answered %q: a scanner gets no answer", c.method, c.ua, firstLine(res))
		}
	}
	if res := exchange(t, conn, to, scannerRequest("OPTIONS", addr, "", 20), 2*time.Second); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS after the scanners answered %q, want 200", firstLine(res))
	}
	select {
	case ev := <-events:
		if cs, ok := ev.(CallStatus); ok {
			t.Errorf("a call event for a scanner's INVITE: %+v", cs)
		}
	default:
	}
	if w := warns.all(); len(w) > 0 {
		t.Errorf("warnings logged for scanner traffic: %q", w)
	}
}

// TestScannerFloodLeavesNoState: 3000 OPTIONS and REGISTERs (a third from scanners) from 100
// source ports leave no goroutines and almost no heap behind, and no warning. Through sipgo's
// transaction layer each would have held a server transaction for 32 s (Timer J) and each
// source port an entry in its connection pool.
func TestScannerFloodLeavesNoState(t *testing.T) {
	warns := &warnRecorder{}
	_, addr, _ := runPhone(t, Config{Logger: slog.New(warns)})
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*net.UDPConn
	for range 100 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadBuffer(1 << 20)
		conns = append(conns, c)
	}
	settle := func() (goroutines int, heap uint64) {
		time.Sleep(200 * time.Millisecond)
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return runtime.NumGoroutine(), m.HeapAlloc
	}
	g0, h0 := settle()
	const total = 3000
	agents := []string{"", "friendly-scanner", "Zoiper rv2.10"}
	for i := range total {
		req := scannerRequest([]string{"OPTIONS", "REGISTER"}[i%2], addr, agents[i%3], 1000+i)
		if _, err := conns[i%len(conns)].WriteToUDP([]byte(req), to); err != nil {
			t.Fatal(err)
		}
		if i%15 == 14 {
			time.Sleep(5 * time.Millisecond) // ~3000 a second: a flood, not a kernel buffer overflow
		}
	}
	// Every socket is read at once: a read past its deadline fails even with answers queued.
	var (
		mu                   sync.Mutex
		answered, toScanners int
		wg                   sync.WaitGroup
		deadline             = time.Now().Add(time.Second)
	)
	for _, c := range conns {
		wg.Go(func() {
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(deadline)
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				var i int
				_, serr := fmt.Sscanf(headerValue(string(buf[:n]), "Call-ID"), "scan-%d", &i)
				mu.Lock()
				answered++
				if serr == nil && agents[(i-1000)%3] == "friendly-scanner" {
					toScanners++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	g1, h1 := settle()
	t.Logf("%d requests sent, %d answered; goroutines %d -> %d, heap %d KiB -> %d KiB", total, answered, g0, g1, h0>>10, h1>>10)
	// Loopback drops a datagram now and then when the machine is busy: a UA would retransmit.
	if want := total - total/3; answered < want*98/100 || answered > want || toScanners > 0 {
		t.Errorf("%d answers (%d of them to scanners), want %d (all but the scanners' third)", answered, toScanners, want)
	}
	if g1 > g0+5 {
		t.Errorf("goroutines %d -> %d after the flood", g0, g1)
	}
	// 3000 server transactions and their requests would hold several MiB for 32 s.
	if h1 > h0+512<<10 {
		t.Errorf("heap %d KiB -> %d KiB after the flood: state kept per request", h0>>10, h1>>10)
	}
	if w := warns.all(); len(w) > 0 {
		t.Errorf("%d warnings logged for scanner traffic, first %q", len(w), w[0])
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// FuzzClassifyDatagram: the screen's look at raw bytes (classifyDatagram, userAgentOf) never
// panics, and its verdicts agree with the bytes: OPTIONS and REGISTER only for those request
// lines, a drop only for a User-Agent that names a scanner. The seed corpus is
// testdata/fuzz/FuzzClassifyDatagram.
func FuzzClassifyDatagram(f *testing.F) {
	f.Add([]byte(scannerRequest("OPTIONS", "127.0.0.1:5060", "friendly-scanner", 1)))
	f.Add([]byte(scannerRequest("REGISTER", "127.0.0.1:5060", "", 2)))
	f.Add([]byte("SIP/2.0 200 OK\r\nUser-Agent: sipvicious\r\n\r\n"))
	f.Add([]byte("\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v := classifyDatagram(data)
		ua := userAgentOf(bytes.TrimLeft(data, "\r\n"))
		trimmed := bytes.TrimLeft(data, "\r\n")
		switch v {
		case screenOptions:
			if !bytes.HasPrefix(trimmed, []byte("OPTIONS ")) {
				t.Fatalf("OPTIONS verdict for %q", data)
			}
		case screenRegister:
			if !bytes.HasPrefix(trimmed, []byte("REGISTER ")) {
				t.Fatalf("REGISTER verdict for %q", data)
			}
		case screenDrop:
			if !isScannerAgent(ua) || bytes.HasPrefix(trimmed, []byte("SIP/")) {
				t.Fatalf("dropped %q (User-Agent %q)", data, ua)
			}
		}
		if len(ua) > len(data) {
			t.Fatalf("User-Agent %q longer than the datagram", ua)
		}
	})
}

// TestScannerAnswersOverIPv6: the stateless answer goes out of the socket the request came
// in on, the IPv6 one too.
func TestScannerAnswersOverIPv6(t *testing.T) {
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer conn.Close()
	p := runUnsubscribed(t, Config{ListenAddr: "[::1]:0"})
	to, err := net.ResolveUDPAddr("udp6", p.SIPAddr())
	if err != nil {
		t.Fatal(err)
	}
	if res := exchange(t, conn, to, scannerRequest("OPTIONS", p.SIPAddr(), "", 1), 2*time.Second); !strings.HasPrefix(res, "SIP/2.0 200 ") {
		t.Errorf("OPTIONS over IPv6 answered %q, want 200", firstLine(res))
	}
	if res := exchange(t, conn, to, scannerRequest("REGISTER", p.SIPAddr(), "sipvicious", 2), 300*time.Millisecond); res != "" {
		t.Errorf("a scanner's REGISTER over IPv6 answered %q", firstLine(res))
	}
}

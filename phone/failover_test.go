package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// testServer is an in-process SIP server on a loopback UDP port: it answers REGISTER and
// MESSAGE with code (200 or 503) and counts what it got.
type testServer struct {
	addr string
	stop func()
	mu   sync.Mutex
	got  map[sip.RequestMethod]int
}

func startSIPServer(t *testing.T, code int) *testServer {
	t.Helper()
	return startSIPServerAt(t, code, "127.0.0.1:0")
}

// startSIPServerAt is startSIPServer on a given address; stop ends it early.
func startSIPServerAt(t *testing.T, code int, addr string) *testServer {
	t.Helper()
	ua, srv := sipgoServer(t)
	s := &testServer{got: map[sip.RequestMethod]int{}}
	answer := func(req *sip.Request, tx sip.ServerTransaction) {
		s.mu.Lock()
		s.got[req.Method]++
		s.mu.Unlock()
		if req.Method == sip.REGISTER && code == 200 {
			_ = tx.Respond(registered(req))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, map[int]string{200: "OK", 503: "Service Unavailable"}[code], nil))
	}
	srv.OnRegister(answer)
	srv.OnMessage(answer)
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	s.stop = serveUDP(t, ua, srv, pc)
	return s
}

// sipgoServer is a bare sipgo user agent and a server on it, for a test's far end.
func sipgoServer(t *testing.T) (*sipgo.UserAgent, *sipgo.Server) {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	return ua, srv
}

// serveUDP serves srv on pc until the test ends, or stop (which may be called more than once)
// ends it early; either closes pc, srv and ua.
func serveUDP(t *testing.T, ua *sipgo.UserAgent, srv *sipgo.Server, pc net.PacketConn) (stop func()) {
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeUDP(pc) }()
	var once sync.Once
	stop = func() { once.Do(func() { pc.Close(); <-done; srv.Close(); ua.Close() }) }
	t.Cleanup(stop)
	return stop
}

// registered is a registrar's 200 to a REGISTER: its Contact bound for 300 s.
func registered(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil {
		res.AppendHeader(&sip.ContactHeader{Address: c.Address})
	}
	exp := sip.ExpiresHeader(300)
	res.AppendHeader(&exp)
	return res
}

func (s *testServer) count(m sip.RequestMethod) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[m]
}

// silentUDP takes packets and never answers: a server that is gone without a trace.
func silentUDP(t *testing.T) (string, func() int) {
	t.Helper()
	return silentUDPAt(t, "127.0.0.1:0")
}

// silentUDPAt is silentUDP on a given address (a server that was there and went silent).
func silentUDPAt(t *testing.T, addr string) (string, func() int) {
	t.Helper()
	return countingUDPAt(t, addr, "REGISTER", "MESSAGE")
}

// countingUDPAt is a UDP server on addr that answers nothing and counts the requests of the
// methods given.
func countingUDPAt(t *testing.T, addr string, methods ...string) (string, func() int) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, m := range methods {
				if strings.HasPrefix(string(buf[:k]), m+" ") {
					mu.Lock()
					n++
					mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// refusedUDP is a loopback port nothing listens on (ICMP port unreachable).
func refusedUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func srvRecord(name string, prio int, addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("_sip._udp.%s. 60 IN SRV %d 0 %s host%d.%s.", name, prio, port, prio, name)
}

func aRecord(name string, prio int) string {
	return fmt.Sprintf("host%d.%s. 60 IN A 127.0.0.1", prio, name)
}

func shortAttempts(t *testing.T, d time.Duration) {
	old := attemptTimeout
	attemptTimeout = d
	t.Cleanup(func() { attemptTimeout = old })
}

func waitRegState(t *testing.T, events <-chan Event, want RegState, within time.Duration) AccountStatus {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("events closed")
			}
			if st, ok := ev.(AccountStatus); ok && st.State == want {
				return st
			}
		case <-deadline:
			t.Fatalf("no %v within %v", want, within)
		}
	}
}

func TestRegisterAndMessageFailOverAlongSRV(t *testing.T) {
	shortAttempts(t, time.Second)
	refused := refusedUDP(t)
	silent, silentGot := silentUDP(t)
	busy := startSIPServer(t, 503)
	live := startSIPServer(t, 200)
	dnsAddr := startTestDNS(t,
		srvRecord("fail.test", 10, refused), aRecord("fail.test", 10),
		srvRecord("fail.test", 20, silent), aRecord("fail.test", 20),
		srvRecord("fail.test", 30, busy.addr), aRecord("fail.test", 30),
		srvRecord("fail.test", 40, live.addr), aRecord("fail.test", 40),
	)
	pw := func(context.Context) (string, error) { return "secret", nil }
	cfg := Config{ListenAddr: "127.0.0.1:0", KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{
		{Name: "reg", AOR: "sip:alice@fail.test", Register: true, Password: pw},
		{Name: "noreg", AOR: "sip:carol@fail.test", Password: pw},
	}}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := p.Subscribe(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	st := waitRegState(t, events, Registered, 15*time.Second)
	took := time.Since(start)
	t.Logf("registered at the 4th SRV target after %v (refused, silent for %v, 503, live)", took, attemptTimeout)
	if live.count(sip.REGISTER) != 1 || busy.count(sip.REGISTER) != 1 || silentGot() == 0 {
		t.Errorf("REGISTERs: live %d, 503 %d, silent %d; want 1, 1, >0", live.count(sip.REGISTER), busy.count(sip.REGISTER), silentGot())
	}
	if took > attemptTimeout+3*time.Second {
		t.Errorf("failover took %v; the refused target should cost nothing and the silent one %v", took, attemptTimeout)
	}
	if got := p.wire("reg").lastTarget(); got != live.addr || !strings.Contains(st.Contact, "alice@") {
		t.Errorf("registered at %q (contact %q); want %s", got, st.Contact, live.addr)
	}

	// A message through the registered account goes where the registration succeeded.
	before := silentGot()
	mctx, mcancel := context.WithTimeout(ctx, 10*time.Second)
	defer mcancel()
	if err := p.SendMessage(mctx, "reg", "bob", "hello"); err != nil {
		t.Fatalf("message via the registered account: %v", err)
	}
	if live.count(sip.MESSAGE) != 1 || busy.count(sip.MESSAGE) != 0 || silentGot() != before {
		t.Errorf("MESSAGE went to live %d, 503 %d, silent %d times; want straight to the registered server", live.count(sip.MESSAGE), busy.count(sip.MESSAGE), silentGot()-before)
	}
	// Without a registration, a message walks the list.
	mstart := time.Now()
	if err := p.SendMessage(mctx, "noreg", "bob", "hello again"); err != nil {
		t.Fatalf("message via the unregistered account: %v", err)
	}
	t.Logf("message failed over to the 4th target in %v", time.Since(mstart))
	if live.count(sip.MESSAGE) != 2 || busy.count(sip.MESSAGE) != 1 || silentGot() == before {
		t.Errorf("MESSAGE: live %d, 503 %d, silent %d; want 2, 1, >0", live.count(sip.MESSAGE), busy.count(sip.MESSAGE), silentGot()-before)
	}
}

func TestNoReachableTargetNamesEveryOne(t *testing.T) {
	shortAttempts(t, 500*time.Millisecond)
	refused := refusedUDP(t)
	silent, _ := silentUDP(t)
	dnsAddr := startTestDNS(t,
		srvRecord("dead.test", 10, refused), aRecord("dead.test", 10),
		srvRecord("dead.test", 20, silent), aRecord("dead.test", 20),
	)
	pw := func(context.Context) (string, error) { return "secret", nil }
	p, _, events := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{
		{Name: "a", AOR: "sip:alice@dead.test", Register: true, Password: pw},
	}})
	st := waitRegState(t, events, RegFailed, 10*time.Second)
	t.Logf("reason: %s", st.Reason)
	for _, want := range []string{"udp " + refused, "udp " + silent, "connection refused", "no response", "host10.dead.test", "host20.dead.test"} {
		if !strings.Contains(st.Reason, want) {
			t.Errorf("failure reason %q does not name %q", st.Reason, want)
		}
	}
	if st.Failure != FailureNetwork {
		t.Errorf("failure %v, want network", st.Failure)
	}
	mctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.SendMessage(mctx, "a", "bob", "anyone?")
	var pe *Error
	if !errors.As(err, &pe) || pe.Failure != FailureNetwork || !strings.Contains(err.Error(), refused) || !strings.Contains(err.Error(), silent) {
		t.Fatalf("message to a dead set: %v; want a network failure naming %s and %s", err, refused, silent)
	}
}

func TestRefreshesStayWithTheServerThatWorkedThenStartOver(t *testing.T) {
	shortAttempts(t, time.Second)
	first := refusedUDP(t)
	second := startSIPServer(t, 200)
	dnsAddr := startTestDNS(t,
		srvRecord("refresh.test", 10, first), aRecord("refresh.test", 10),
		srvRecord("refresh.test", 20, second.addr), aRecord("refresh.test", 20),
	)
	pw := func(context.Context) (string, error) { return "secret", nil }
	p, _, _ := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{
		{Name: "a", AOR: "sip:alice@refresh.test", Password: pw},
	}})
	wire := p.wire("a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := wire.register(ctx, time.Minute); err != nil || wire.lastTarget() != second.addr {
		t.Fatalf("first REGISTER: %v at %s; want the priority 20 server %s", err, wire.lastTarget(), second.addr)
	}
	// The priority 10 server comes back; refreshes still go where the binding is.
	revived := startSIPServerAt(t, 200, first)
	if _, err := wire.register(ctx, time.Minute); err != nil || wire.lastTarget() != second.addr || revived.count(sip.REGISTER) != 0 {
		t.Fatalf("refresh: %v at %s (the revived first server got %d); want %s", err, wire.lastTarget(), revived.count(sip.REGISTER), second.addr)
	}
	// The server that worked dies: the next refresh starts from the top of the list.
	second.stop()
	start := time.Now()
	if _, err := wire.register(ctx, time.Minute); err != nil || wire.lastTarget() != first || revived.count(sip.REGISTER) != 1 {
		t.Fatalf("after the registrar died: %v at %s; want the list from the top, %s", err, wire.lastTarget(), first)
	}
	t.Logf("refresh moved from the dead registrar to the first of the list in %v", time.Since(start))
	// Unregistering goes only where the binding is.
	if _, err := wire.register(ctx, 0); err != nil || revived.count(sip.REGISTER) != 2 {
		t.Fatalf("unregister: %v, first server got %d REGISTERs", err, revived.count(sip.REGISTER))
	}
}

func TestUDPRegistrationSkipsTargetsOfTheOtherFamily(t *testing.T) {
	tg := func(s string) resolve.Target {
		return resolve.Target{Transport: resolve.UDP, Addr: netip.MustParseAddrPort(s)}
	}
	all := []resolve.Target{tg("192.0.2.1:5060"), tg("[2001:db8::1]:5060"), tg("192.0.2.2:5060")}
	r := &sipRegistrar{acc: &account{Account: Account{Transport: UDP}}, udpListen: &net.UDPAddr{IP: net.IPv4zero, Port: 5060}}
	if got := r.usable(all); len(got) != 2 || got[1].Addr.String() != "192.0.2.2:5060" {
		t.Errorf("IPv4 socket: %v", got)
	}
	r.udpListen = &net.UDPAddr{IP: net.IPv6loopback, Port: 5060}
	if got := r.usable(all); len(got) != 1 || !got[0].Addr.Addr().Is6() {
		t.Errorf("IPv6 socket: %v", got)
	}
	if got := r.usable(all[:1]); len(got) != 1 {
		t.Errorf("nothing of our family: keep what there is (for the error), got %v", got)
	}
	r.acc.Transport, r.udpListen = TCP, nil
	if got := r.usable(all); len(got) != 3 {
		t.Errorf("TCP: %v", got)
	}
}

// TestOwnSocketIsNoTarget: a target that is our own UDP SIP socket (a dead server's port the
// system has given us since, or DNS naming this machine) is skipped, or we would answer our
// own requests; if nothing else is left, the list stays as it was.
func TestOwnSocketIsNoTarget(t *testing.T) {
	r := &sipRegistrar{acc: &account{Account: Account{Transport: UDP}}, log: slog.New(slog.DiscardHandler),
		udpListen: &net.UDPAddr{IP: net.IPv4zero, Port: 40003}}
	own := resolve.Target{Transport: resolve.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:40003")}
	other := resolve.Target{Transport: resolve.UDP, Addr: netip.MustParseAddrPort("127.0.0.1:40005")}
	if got := r.usable([]resolve.Target{own, other}); len(got) != 1 || got[0] != other {
		t.Fatalf("usable = %v, want only %v", got, other)
	}
	if got := r.usable([]resolve.Target{own}); len(got) != 1 {
		t.Fatalf("with nothing else the list must stay: %v", got)
	}
	if r.isOwnSocket(netip.MustParseAddrPort("192.0.2.7:40003")) {
		t.Fatal("a remote host on our port number taken for ourselves")
	}
}

// deadResolver is DNS that has gone away (a router that lost its upstream).
type deadResolver struct{}

func (deadResolver) Resolve(context.Context, resolve.Query) ([]resolve.Target, *resolve.Trace, error) {
	return nil, &resolve.Trace{}, &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}
}

// TestRefreshUsesTheLastServersWhenDNSFails: DNS stops answering after the account has
// registered; the refresh goes to the servers DNS gave last time instead of failing (and the
// binding lapsing while DNS is down).
func TestRefreshUsesTheLastServersWhenDNSFails(t *testing.T) {
	live := startSIPServer(t, 200)
	dnsAddr := startTestDNS(t, srvRecord("stale.test", 10, live.addr), aRecord("stale.test", 10))
	pw := func(context.Context) (string, error) { return "secret", nil }
	p, _, _ := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{
		{Name: "a", AOR: "sip:alice@stale.test", Password: pw},
	}})
	wire := p.wire("a")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := wire.register(ctx, time.Minute); err != nil {
		t.Fatalf("first REGISTER: %v", err)
	}
	wire.mu.Lock()
	wire.resolver = deadResolver{}
	wire.mu.Unlock()
	if _, err := wire.register(ctx, time.Minute); err != nil || live.count(sip.REGISTER) != 2 {
		t.Fatalf("refresh with DNS down: %v (the registrar got %d REGISTERs); want it sent to the server DNS gave before", err, live.count(sip.REGISTER))
	}
	// A message (and a call) too: it failed with "cannot resolve" while the refreshes went on.
	if err := p.SendMessage(ctx, "a", "bob", "still here"); err != nil || live.count(sip.MESSAGE) != 1 {
		t.Fatalf("message with DNS down: %v (the server got %d); want it sent to the server DNS gave before", err, live.count(sip.MESSAGE))
	}
}

// TestNoFailoverAfterTrying: the first server answers 100 Trying and takes longer than the
// per-server timeout for its final answer (it forwards to a slow recipient). It has the
// message: the next server must not get it too (the recipient would show it twice).
func TestNoFailoverAfterTrying(t *testing.T) {
	shortAttempts(t, time.Second)
	ua, srv := sipgoServer(t)
	var mu sync.Mutex
	slowGot := 0
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		mu.Lock()
		slowGot++
		mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
		time.Sleep(2500 * time.Millisecond) // more than two per-server timeouts
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slow := pc.LocalAddr().String()
	serveUDP(t, ua, srv, pc)
	live := startSIPServer(t, 200)
	dnsAddr := startTestDNS(t,
		srvRecord("slow.test", 10, slow), aRecord("slow.test", 10),
		srvRecord("slow.test", 20, live.addr), aRecord("slow.test", 20),
	)
	pw := func(context.Context) (string, error) { return "secret", nil }
	p := runUnsubscribed(t, Config{ListenAddr: "127.0.0.1:0", KeepAlive: -1, DNSServer: dnsAddr,
		Accounts: []Account{{Name: "noreg", AOR: "sip:carol@slow.test", Password: pw}}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.SendMessage(ctx, "noreg", "bob", "once"); err != nil {
		t.Fatalf("message: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if slowGot != 1 || live.count(sip.MESSAGE) != 0 {
		t.Fatalf("the slow server got %d, the next %d; want the slow one only", slowGot, live.count(sip.MESSAGE))
	}
}

// TestRingTimeoutEndsTheFailover: the ring timeout runs out while the first server is still
// silent: the call ends there, and no INVITE goes to the next one. Each next target got an
// INVITE given up at once (no CANCEL possible before a provisional), so a live server's callee
// rang on with nobody calling.
func TestRingTimeoutEndsTheFailover(t *testing.T) {
	shortAttempts(t, 5*time.Second) // longer than the ring timeout
	silent, _ := silentUDP(t)
	next, nextGot := invitesAt(t)
	dnsAddr := startTestDNS(t, srvRecord("ring.test", 10, silent), aRecord("ring.test", 10),
		srvRecord("ring.test", 20, next), aRecord("ring.test", 20))
	p, _, events := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr,
		Accounts: []Account{{Name: "a", AOR: "sip:carol@ring.test"}}})
	id, err := p.Dial("a", "bob", CallAudio{}, DialOptions{RingTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, events, id, CallEnded)
	time.Sleep(500 * time.Millisecond) // an INVITE sent at the end would be there by now
	if n := nextGot(); n != 0 {
		t.Fatalf("%d INVITEs reached the next server after the ring timeout", n)
	}
}

// invitesAt is a silent UDP server that counts the INVITEs it gets.
func invitesAt(t *testing.T) (string, func() int) {
	t.Helper()
	return countingUDPAt(t, "127.0.0.1:0", "INVITE")
}

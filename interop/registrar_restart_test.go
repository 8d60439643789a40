package interop

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestRegistrarRestart (issue 11, item 4): `dialtone register` is registered at Kamailio,
// which is killed (SIGKILL) and restarted on the same port after an outage, as a supervisor
// restarts a crashed registrar. dialtone must show the outage (registration_failed with a
// reason and retry_in, or recovering over TCP), send no more REGISTERs than its backoff
// policy allows (2 s doubling to 5 min, half of each delay random: README "Registration"),
// and register again within the announced backoff once the registrar is back.
//
//   - udp-icmp: nothing listens on the port while it is down, so every REGISTER draws an
//     ICMP port unreachable: what a real restart looks like. REGISTERs are counted in
//     dialtone's --sip-trace.
//   - udp-silent: a socket that reads and never answers holds the port while it is down (a
//     hung registrar, or one behind a firewall that drops): each attempt is a full RFC 3261
//     transaction (timer F, 32 s). That socket counts what arrives; the trace must agree.
//   - tcp: the connection of the binding dies with the registrar; dialtone notices at once,
//     reconnects (refused while it is down) and registers again when it is back.
func TestRegistrarRestart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, transport string
		silent          bool
		outage          time.Duration
	}{
		{"udp-icmp", "udp", false, 20 * time.Second},
		// Longer than a refresh (5 s) plus timer F (32 s): the first attempt fails before the restart.
		{"udp-silent", "udp", true, 40 * time.Second},
		{"tcp", "tcp", false, 20 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			registrarRestart(t, c.transport, c.silent, c.outage)
		})
	}
	t.Run("udp-between-refreshes", func(t *testing.T) {
		t.Parallel()
		restartBetweenRefreshes(t)
	})
}

// The registration policy under test, as README documents it: an expiry short enough that
// refreshes run during the outage (refresh at half of it), and the backoff's first delay.
const (
	restartExpires = 10 * time.Second
	backoffMin     = 2 * time.Second
)

func registrarRestart(t *testing.T, transport string, silent bool, outage time.Duration) {
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	trace := filepath.Join(t.TempDir(), "sip.trace")
	alice := startDialtone(t, pw("alice"), append([]string{"register", "--json", "--log-level", "debug", "--sip-trace", trace,
		"--expires", fmt.Sprint(int(restartExpires / time.Second))}, adhoc(k, transport, "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)

	if err := k.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var sink *silentRegistrar
	if silent {
		var err error
		if sink, err = listenSilently(k.HostPort("udp")); err != nil {
			t.Fatalf("holding the registrar's port while it is down: %v", err)
		}
		t.Cleanup(func() { sink.close() })
	}

	// While it is down: every event, with when it came.
	var during []seen
	for deadline := time.After(time.Until(killed.Add(outage))); ; {
		select {
		case e, ok := <-alice.events:
			if !ok {
				t.Fatalf("dialtone exited while the registrar was down\n%s", alice.transcript())
			}
			during = append(during, seen{time.Now(), e})
			continue
		case <-deadline:
		}
		break
	}
	var datagrams, sinkRegisters int
	if sink != nil {
		datagrams, sinkRegisters = sink.close()
	}
	restarting := time.Now()
	if err := k.Restart(); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()

	// What dialtone showed during the outage.
	var failures []seen
	recovering := 0
	for _, s := range during {
		switch s.ev.name() {
		case "registered":
			t.Fatalf("registered at %v into the outage, with no registrar: %v", s.at.Sub(killed).Round(time.Millisecond), s.ev)
		case "recovering":
			recovering++
		case "registration_failed":
			failures = append(failures, s)
			if s.ev.str("reason") == "" || s.ev.str("failure") != "network" || s.ev.num("retry_in") <= 0 {
				t.Errorf("registration_failed %v: want a reason, failure network and retry_in", s.ev)
			}
		}
	}
	if len(failures) == 0 {
		sipTrace, _ := os.ReadFile(trace)
		t.Fatalf("no registration_failed event in %v without a registrar: %v\n%s\nSIP trace:\n%s", outage, names(evsOf(during)), alice.transcript(), sipTrace)
	}
	if transport == "tcp" && recovering == 0 {
		t.Errorf("over TCP the dead connection was not reported (no recovering event): %v", names(evsOf(during)))
	}

	// Back: registered again by the attempt the last failure announced, or, if that attempt
	// was already under way at the restart, by its next retransmission (T2 = 4 s). An attempt
	// due while Kamailio was starting up may fail too (ICMP before it binds the port): then the
	// next one, which that failure announces, is the deadline.
	last, lateFailures := failures[len(failures)-1], 0
	var reg event
	for deadline := time.After(60 * time.Second); reg == nil; {
		select {
		case e, ok := <-alice.events:
			if !ok {
				t.Fatalf("dialtone exited after the restart\n%s", alice.transcript())
			}
			switch e.name() {
			case "registered":
				reg = e
			case "registration_failed":
				last = seen{time.Now(), e}
				lateFailures++
			}
		case <-deadline:
			t.Fatalf("not registered within 60 s of the restart\n%s", alice.transcript())
		}
	}
	nextTry := last.at.Add(time.Duration(last.ev.num("retry_in") * float64(time.Second)))
	back, ok := traced200(t, trace, restarting)
	if !ok {
		t.Fatalf("registered, but the trace holds no 200 for a REGISTER after the restart\n%s", readFile(t, trace))
	}
	limit := nextTry
	if limit.Before(ready) {
		limit = ready.Add(4 * time.Second)
	}
	limit = limit.Add(3 * time.Second) // the transaction itself, the digest round and scheduling
	if back.After(limit) {
		t.Errorf("registered %v after the restart, %v later than the backoff announced (next attempt %v after the restart)",
			back.Sub(restarting).Round(time.Millisecond), back.Sub(limit).Round(time.Millisecond), nextTry.Sub(restarting).Round(time.Millisecond))
	}
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 1 {
		t.Errorf("the restarted registrar holds %v (%v), want alice's one binding", cs, err)
	}

	// No retry storm: attempts within what the policy allows for the outage, REGISTERs within
	// what those attempts may send.
	registers := tracedRegisters(t, trace, killed, restarting)
	maxAttempts := policyAttempts(outage)
	var retryIn []string
	for _, f := range failures {
		retryIn = append(retryIn, fmt.Sprintf("%.1f", f.ev.num("retry_in")))
	}
	t.Logf("%s: registrar down %v: %d failed attempts (policy allows ≤ %d), retry_in %v s, %d recovering, %d REGISTERs sent (trace); "+
		"first failure %v after the kill: %q; Kamailio up again %v after the restart began; %d attempts failed after it; the 200 came %v after it (next attempt was due %v after it), expires %v",
		transport, outage, len(failures), maxAttempts, retryIn, recovering, registers,
		failures[0].at.Sub(killed).Round(time.Millisecond), failures[0].ev.str("reason"),
		ready.Sub(restarting).Round(time.Millisecond), lateFailures, back.Sub(restarting).Round(time.Millisecond), nextTry.Sub(restarting).Round(time.Millisecond), reg.num("expires"))
	if len(failures) > maxAttempts {
		t.Errorf("%d failed attempts in %v: the backoff allows at most %d", len(failures), outage, maxAttempts)
	}
	perAttempt := 3 // ICMP: the first send, the 0.5 s retransmission, one more before the probe's answer
	if silent {
		// Every send of a transaction nobody answers: at 0, 0.5, 1.5, 3.5, 7.5, ... 31.5 s
		// until timer F (64*T1 = 32 s, RFC 3261 17.1.2.2).
		perAttempt = 11
	}
	if transport == "tcp" {
		perAttempt = 1 // no retransmission over a reliable transport (and none when refused)
	}
	// The attempt under way at the restart may have been sent during the outage too.
	if maxRegs := (len(failures) + 1) * perAttempt; registers > maxRegs {
		t.Errorf("%d REGISTERs sent in %v for %d attempts: more than %d (%d per attempt)", registers, outage, len(failures), maxRegs, perAttempt)
	}
	if transport == "udp" && registers < len(failures) {
		t.Errorf("the trace shows %d REGISTERs for %d failed attempts: the counter is broken", registers, len(failures))
	}
	if sink != nil {
		t.Logf("silent socket: %d datagrams, %d REGISTERs", datagrams, sinkRegisters)
		// The trace is written as sipgo sends, the socket counts while it is open: over the
		// same span both count the same datagrams, give or take one in flight at either end.
		sent := tracedRegisters(t, trace, sink.opened, sink.closed)
		if d := sinkRegisters - sent; d < -1 || d > 1 {
			t.Errorf("the silent socket got %d REGISTERs, the trace says %d were sent while it listened", sinkRegisters, sent)
		}
	}
}

// seen is an event and when it arrived.
type seen struct {
	at time.Time
	ev event
}

func evsOf(s []seen) []event {
	out := make([]event, 0, len(s))
	for _, x := range s {
		out = append(out, x.ev)
	}
	return out
}

// policyAttempts is the most attempts the backoff policy allows in an outage: the first at
// once, then after at least half of 2 s, 4 s, 8 s, ... (the random half may be zero).
func policyAttempts(outage time.Duration) int {
	n, at := 1, time.Duration(0)
	for d := backoffMin; ; d *= 2 {
		at += d / 2
		if at > outage {
			return n
		}
		n++
	}
}

// tracedRegisters counts the REGISTER requests dialtone's --sip-trace says it sent between
// from and to (retransmissions included: the trace is written at the transport).
func tracedRegisters(t *testing.T, path string, from, to time.Time) int {
	t.Helper()
	n := 0
	for _, chunk := range strings.Split("\n"+readFile(t, path), "\n=== ")[1:] {
		first, text, _ := strings.Cut(chunk, "\n")
		f := strings.Fields(first)
		if len(f) < 2 || f[1] != "send" || !strings.HasPrefix(text, "REGISTER ") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			t.Fatalf("trace time %q: %v", f[0], err)
		}
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// traced200 is when the first 200 to a REGISTER after since arrived, by the trace.
func traced200(t *testing.T, path string, since time.Time) (time.Time, bool) {
	t.Helper()
	for _, chunk := range strings.Split("\n"+readFile(t, path), "\n=== ")[1:] {
		first, text, _ := strings.Cut(chunk, "\n")
		f := strings.Fields(first)
		if len(f) < 2 || f[1] != "recv" || !strings.HasPrefix(text, "SIP/2.0 200") || !strings.Contains(header(text, "CSeq"), "REGISTER") {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			t.Fatalf("trace time %q: %v", f[0], err)
		}
		if !at.Before(since) {
			return at, true
		}
	}
	return time.Time{}, false
}

// silentRegistrar holds a UDP port, reads everything sent to it and answers nothing.
type silentRegistrar struct {
	conn           net.PacketConn
	opened, closed time.Time
	wg             sync.WaitGroup
	once           sync.Once
	datagrams      int
	registers      int
}

// listenSilently binds addr, retrying for a moment: Kamailio's children release the port a
// little after the main process is reaped.
func listenSilently(addr string) (*silentRegistrar, error) {
	var c net.PacketConn
	var err error
	for range 40 {
		if c, err = net.ListenPacket("udp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	s := &silentRegistrar{conn: c, opened: time.Now()}
	s.wg.Go(func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return // closed
			}
			s.datagrams++
			if strings.HasPrefix(string(buf[:n]), "REGISTER ") {
				s.registers++
			}
		}
	})
	return s, nil
}

// close frees the port and returns what arrived: every datagram, and the REGISTERs among them.
func (s *silentRegistrar) close() (datagrams, registers int) {
	s.once.Do(func() {
		s.conn.Close()
		s.wg.Wait()
		s.closed = time.Now()
	})
	return s.datagrams, s.registers
}

// restartBetweenRefreshes: the registrar is killed just after a REGISTER and is back (without
// the binding: Kamailio keeps them in memory here) before the next refresh, at half of a 60 s
// expiry. Over UDP nothing tells dialtone: no REGISTER goes out during the outage (no retry
// storm, and no failure shown either), and the binding comes back with the next refresh. This
// measures how long a registrar that loses its bindings on restart cannot reach dialtone.
func restartBetweenRefreshes(t *testing.T) {
	const expires = 60 * time.Second
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	trace := filepath.Join(t.TempDir(), "sip.trace")
	alice := startDialtone(t, pw("alice"), append([]string{"register", "--json", "--log-level", "debug", "--sip-trace", trace,
		"--expires", fmt.Sprint(int(expires / time.Second))}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	registered := time.Now()
	if err := k.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	time.Sleep(15 * time.Second) // the outage
	restarting := time.Now()
	if err := k.Restart(); err != nil {
		t.Fatal(err)
	}
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 0 {
		t.Fatalf("the restarted registrar holds %v (%v): want no binding until dialtone refreshes", cs, err)
	}
	// The refresh is due at half the expiry after the REGISTER.
	reg := alice.waitEvent("registered", expires/2+10*time.Second)
	back, ok := traced200(t, trace, restarting)
	if !ok {
		t.Fatal("registered again, but the trace holds no 200 after the restart")
	}
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 1 {
		t.Errorf("after the refresh the registrar holds %v (%v), want alice's one binding", cs, err)
	}
	sent := tracedRegisters(t, trace, killed, restarting)
	if sent != 0 {
		t.Errorf("%d REGISTERs during an outage between refreshes: want none", sent)
	}
	due := registered.Add(expires / 2)
	if back.After(due.Add(3 * time.Second)) {
		t.Errorf("the refresh came %v after the REGISTER, want %v (half the expiry)", back.Sub(registered).Round(time.Millisecond), expires/2)
	}
	t.Logf("udp, expires %v, registrar down %v between refreshes: %d REGISTERs meanwhile, no failure shown; "+
		"the restarted registrar had no binding for %v, until the refresh %v after the previous REGISTER (expires %v)",
		expires, restarting.Sub(killed).Round(time.Millisecond), sent, back.Sub(restarting).Round(time.Millisecond),
		back.Sub(registered).Round(time.Millisecond), reg.num("expires"))
}

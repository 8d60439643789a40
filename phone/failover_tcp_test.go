package phone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/phonetest"
	"github.com/emiago/sipgo/sip"
)

// startTCPSIPServer is a registrar over TCP on loopback answering 200.
func startTCPSIPServer(t *testing.T) (string, func() int) {
	t.Helper()
	ua, srv := sipgoServer(t)
	n := make(chan struct{}, 100)
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		n <- struct{}{}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil {
			res.AppendHeader(&sip.ContactHeader{Address: c.Address})
		}
		_ = tx.Respond(res)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeTCP(ln) }()
	t.Cleanup(func() { ln.Close(); srv.Close(); ua.Close(); <-done })
	return ln.Addr().String(), func() int { return len(n) }
}

func TestRegisterOverTCPFailsOverPastRefusedAndBlackholed(t *testing.T) {
	shortAttempts(t, time.Second)
	refused := refusedUDP(t) // the same port is closed for TCP too (nothing bound it)
	hole := fmt.Sprintf("127.0.0.1:%d", phonetest.BlackholeTCP(t))
	live, got := startTCPSIPServer(t)
	rec := func(prio int, addr string) string {
		_, port, _ := net.SplitHostPort(addr)
		return fmt.Sprintf("_sip._tcp.tcp.test. 60 IN SRV %d 0 %s host%d.tcp.test.", prio, port, prio)
	}
	dnsAddr := startTestDNS(t, rec(10, refused), aRecord("tcp.test", 10), rec(20, hole), aRecord("tcp.test", 20), rec(30, live), aRecord("tcp.test", 30))
	pw := func(context.Context) (string, error) { return "secret", nil }
	p, _, _ := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{
		{Name: "a", AOR: "sip:alice@tcp.test", Transport: TCP, Password: pw},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	res, err := p.wire("a").register(ctx, time.Minute)
	took := time.Since(start)
	if err != nil || got() != 1 || !strings.Contains(res.Contact, "transport=tcp") {
		t.Fatalf("REGISTER over TCP: %v (live server got %d, contact %q)", err, got(), res.Contact)
	}
	t.Logf("TCP: refused, blackholed (SYN dropped) then live: registered in %v", took)
	if took < attemptTimeout || took > attemptTimeout+2*time.Second {
		t.Errorf("took %v; want about one per-target timeout (%v) for the blackhole and nothing for the refusal", took, attemptTimeout)
	}
}

// TestRegisterOverTCPFailsWhenTheConnectionDiesBeforeTheAnswer: a registrar that takes the
// REGISTER and then resets the connection (a process killed with the request on the wire, as
// Kamailio in the interop restart test) fails the attempt at once, as a transport error, where
// sipgo alone left it to the 32 s transaction timer.
func TestRegisterOverTCPFailsWhenTheConnectionDiesBeforeTheAnswer(t *testing.T) {
	addr, got := resetAfterRequest(t)
	p, _ := tcpAccountPhone(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := p.wire("a").register(ctx, time.Minute)
	took := time.Since(start)
	select {
	case req := <-got:
		if !strings.HasPrefix(req, "REGISTER ") {
			t.Fatalf("the registrar got %q, want a REGISTER", req)
		}
	default:
		t.Fatalf("the registrar got nothing (%v after %v)", err, took)
	}
	var pe *Error
	if !errors.As(err, &pe) || pe.Failure != FailureNetwork || !strings.Contains(pe.Reason, "closed before it answered") {
		t.Fatalf("after %v: %v; want a network failure saying the connection closed before it answered", took, err)
	}
	if took > 5*time.Second {
		t.Errorf("the attempt failed after %v; the connection was gone within milliseconds", took)
	}
	t.Logf("failed %v after the REGISTER left: %s", took.Round(time.Millisecond), pe.Reason)
}

// tcpAccountPhone runs a phone with one account "a" over TCP whose registrar (and proxy for
// its calls) is addr; it does not register at start-up.
func tcpAccountPhone(t *testing.T, addr string) (*Phone, <-chan Event) {
	t.Helper()
	pw := func(context.Context) (string, error) { return "secret", nil }
	p, _, events := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{
		{Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Transport: TCP, Password: pw},
	}})
	return p, events
}

// tcpServerOnce is a TCP server on loopback for one connection: it reads one request (up to
// the blank line) and hands it, with the connection, to serve. It stops with the test.
func tcpServerOnce(t *testing.T, serve func(c net.Conn, req []byte)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf, tmp := []byte(nil), make([]byte, 4096)
		for !strings.Contains(string(buf), "\r\n\r\n") {
			n, err := c.Read(tmp)
			if err != nil {
				return
			}
			buf = append(buf, tmp[:n]...)
		}
		serve(c, buf)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

// resetAfterRequest is a TCP server on loopback that reads one request and resets the
// connection, as a proxy killed with the request on the wire. It reports the request.
func resetAfterRequest(t *testing.T) (string, <-chan string) {
	t.Helper()
	got := make(chan string, 1)
	addr := tcpServerOnce(t, func(c net.Conn, req []byte) {
		got <- string(req)
		c.(*net.TCPConn).SetLinger(0) // a reset, as from a killed process
	})
	return addr, got
}

// TestCallOverTCPFailsWhenTheConnectionDiesBeforeAnyAnswer: an INVITE whose TCP connection is
// reset before the server answered anything ends the call at once as a network failure that
// says so, where sipgo alone waited for Timer B (32 s) or the ring timeout.
func TestCallOverTCPFailsWhenTheConnectionDiesBeforeAnyAnswer(t *testing.T) {
	addr, got := resetAfterRequest(t)
	p, events := tcpAccountPhone(t, addr)
	start := time.Now()
	id, err := p.Dial("a", "sip:bob@127.0.0.1", CallAudio{}, DialOptions{RingTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	end := waitCall(t, events, id, CallEnded)
	took := time.Since(start)
	select {
	case req := <-got:
		if !strings.HasPrefix(req, "INVITE ") {
			t.Fatalf("the server got %q, want an INVITE", req)
		}
	default:
		t.Fatalf("the server got nothing; the call ended %+v", end)
	}
	if end.Failure != FailureNetwork || !strings.Contains(end.Reason, "closed before it answered") {
		t.Fatalf("after %v the call ended %v %q; want a network failure saying the connection closed", took, end.Failure, end.Reason)
	}
	if took > 5*time.Second {
		t.Fatalf("the call took %v to end; want about %v (two looks at the connection)", took, 2*connWatchEvery)
	}
	t.Logf("ended after %v: %s", took, end.Reason)
}

// TestCallOverTCPWaitsForASlowServer: the connection watch does not give up on a server that
// is only slow. It keeps the connection open, says nothing for a second (no 100 Trying), then
// answers 486: the call ends busy, not as a closed connection.
func TestCallOverTCPWaitsForASlowServer(t *testing.T) {
	addr := tcpServerOnce(t, func(c net.Conn, raw []byte) {
		msg, err := sip.ParseMessage(raw)
		req, ok := msg.(*sip.Request)
		if err != nil || !ok {
			return
		}
		time.Sleep(time.Second) // five looks at the connection
		res := sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
		res.To().Params.Add("tag", "slow")
		if _, err := c.Write([]byte(res.String())); err != nil {
			return
		}
		_, _ = c.Read(make([]byte, 4096)) // the ACK; then the connection closes
	})
	p, events := tcpAccountPhone(t, addr)
	id, err := p.Dial("a", "sip:bob@127.0.0.1", CallAudio{}, DialOptions{RingTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if end := waitCall(t, events, id, CallEnded); end.Code != 486 || end.Failure != FailureBusy {
		t.Fatalf("the call ended %d %q (%v); want 486 busy from the slow server", end.Code, end.Reason, end.Failure)
	}
}

package phone

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tcpRegistrar is a registrar on a loopback TCP port: it answers every REGISTER 200 (echoing
// the Contacts), answers CRLFCRLF pings with a CRLF unless silenced, and can close every
// connection, as a restarting registrar or a firewall would.
type tcpRegistrar struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	regs   []*sip.Request
	pings  int
	pongs  int
	silent bool
	// deaf: REGISTERs are read and never answered, the connection kept (a registrar that hangs).
	deaf bool
}

func startTCPRegistrar(t *testing.T) *tcpRegistrar {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRegistrar{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); r.closeAll(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			wg.Go(func() { r.serve(c) })
		}
	})
	return r
}

func (r *tcpRegistrar) serve(c net.Conn) {
	defer c.Close()
	par := sip.NewParser().NewSIPStream()
	buf := make([]byte, 65536)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		data := buf[:n]
		if len(bytes.Trim(data, "\r\n")) == 0 {
			r.mu.Lock()
			r.pings++
			silent := r.silent
			r.mu.Unlock()
			if !silent && bytes.Contains(data, []byte("\r\n\r\n")) {
				if _, err := c.Write([]byte("\r\n")); err == nil {
					r.mu.Lock()
					r.pongs++
					r.mu.Unlock()
				}
			}
			continue
		}
		_ = par.ParseSIPStream(data, func(m sip.Message) {
			req, ok := m.(*sip.Request)
			if !ok || req.Method != sip.REGISTER {
				return
			}
			r.mu.Lock()
			r.regs = append(r.regs, req)
			deaf := r.deaf
			r.mu.Unlock()
			if deaf {
				return
			}
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			for _, h := range req.GetHeaders("Contact") {
				res.AppendHeader(sip.HeaderClone(h))
			}
			_, _ = c.Write([]byte(res.String()))
		})
	}
}

func (r *tcpRegistrar) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

func (r *tcpRegistrar) state() (pings int, regs []*sip.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pings, append([]*sip.Request(nil), r.regs...)
}

func startTCPPhone(t *testing.T, addr string, keepAlive time.Duration, opts ...Option) <-chan Event {
	t.Helper()
	p, err := New(Config{ListenAddr: "127.0.0.1:0", KeepAlive: keepAlive, Accounts: []Account{{
		Name: "a", AOR: "sip:alice@127.0.0.1", Registrar: "sip:" + addr, Transport: TCP, Register: true, Expires: time.Hour,
	}}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := p.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return events
}

func nextState(t *testing.T, events <-chan Event, want RegState) AccountStatus {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev := <-events:
			if s, ok := ev.(AccountStatus); ok && s.State == want {
				return s
			}
		case <-deadline:
			t.Fatalf("no %v event", want)
		}
	}
}

// checkReplaced checks that the last REGISTER bound the new flow and removed the old one.
func checkReplaced(t *testing.T, r *tcpRegistrar, oldContact, newContact string) {
	t.Helper()
	if flowOf(newContact) == flowOf(oldContact) || flowOf(newContact) == "" {
		t.Fatalf("registered again as %q, the dead connection was %q", newContact, oldContact)
	}
	_, regs := r.state()
	last := regs[len(regs)-1]
	var removed, bound bool
	for _, h := range last.GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		exp, _ := c.Params.Get("expires")
		switch flowOf(c.Address.String()) {
		case flowOf(oldContact):
			removed = exp == "0"
		case flowOf(newContact):
			bound = true
		}
	}
	if !removed || !bound {
		t.Fatalf("the REGISTER after recovery should bind the new flow and remove the old one:\n%s", last.String())
	}
}

// A real TCP registration whose connection the registrar closes comes back on a new one at
// once, and the REGISTER that does it removes the old binding.
func TestTCPRegistrationRecoversFromAClosedConnection(t *testing.T) {
	r := startTCPRegistrar(t)
	events := startTCPPhone(t, r.ln.Addr().String(), 100*time.Millisecond)
	first := nextState(t, events, Registered)
	eventually := time.After(10 * time.Second)
	for pings, _ := r.state(); pings == 0; pings, _ = r.state() {
		select {
		case <-eventually:
			t.Fatal("no keep-alive ping reached the registrar")
		case <-time.After(10 * time.Millisecond):
		}
	}
	r.closeAll()
	rec := nextState(t, events, Recovering)
	if !strings.Contains(rec.Reason, "closed") {
		t.Fatalf("recovering reason %q", rec.Reason)
	}
	again := nextState(t, events, Registered)
	checkReplaced(t, r, first.Contact, again.Contact)
}

// A registrar that keeps the connection but stops answering pings loses the flow after the
// pong timeout; time is a fake clock, the sockets are real.
func TestTCPRegistrationRecoversFromASilentConnection(t *testing.T) {
	r := startTCPRegistrar(t)
	clock := newFakeClock()
	go func() { // the fake clock's timer notifications are not used here
		for range clock.added {
		}
	}()
	t.Cleanup(func() { close(clock.added) })
	events := startTCPPhone(t, r.ln.Addr().String(), 5*time.Second, WithClock(clock))
	first := nextState(t, events, Registered)
	var rec AccountStatus
	for step := 0; rec.State != Recovering; step++ {
		if step == 200 {
			t.Fatal("no recovering event after 200 fake seconds")
		}
		r.mu.Lock()
		if r.pongs > 0 {
			r.silent = true // it answered once; from now on it says nothing
		}
		r.mu.Unlock()
		clock.Advance(time.Second)
		select {
		case ev := <-events:
			if s, ok := ev.(AccountStatus); ok {
				rec = s
			}
		case <-time.After(20 * time.Millisecond): // real I/O between fake seconds
		}
	}
	if !strings.Contains(rec.Reason, "did not answer a keep-alive within 10s") {
		t.Fatalf("recovering reason %q", rec.Reason)
	}
	if pings, _ := r.state(); pings == 0 {
		t.Fatal("recovered without a ping having gone unanswered")
	}
	// The connection died young (within flowMinLife of its REGISTER): the new one is opened
	// after rec.RetryIn of fake time.
	if rec.RetryIn <= 0 {
		t.Fatal("a connection that died soon after registering: no wait before the next, want a backoff")
	}
	clock.Advance(rec.RetryIn)
	again := nextState(t, events, Registered)
	checkReplaced(t, r, first.Contact, again.Contact)
}

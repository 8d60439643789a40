package phone

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// messageServer is a sipgo UAS (another SIP stack than the phone's) on one port of 127.0.0.1,
// over UDP and, if tcp, TCP too; it answers every MESSAGE 200 and hands it over with the
// transport it came by.
func messageServer(t *testing.T, tcp bool) (port int, got <-chan *sip.Request) {
	t.Helper()
	var udp net.PacketConn
	var ln net.Listener
	for range 20 { // one port free for both
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		if udp, err = net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			ln = l
			break
		}
		l.Close()
	}
	if udp == nil {
		t.Fatal("no port free over both UDP and TCP")
	}
	if !tcp {
		ln.Close() // the port refuses TCP
	}
	ua, srv := sipgoServer(t)
	ch := make(chan *sip.Request, 4)
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		ch <- req
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(udp) }()
	if tcp {
		go func() { _ = srv.ServeTCP(ln) }()
	}
	t.Cleanup(func() { ua.Close() })
	return port, ch
}

// TestLongMessageGoesByTCP: a message too long for one UDP datagram (RFC 3261 §18.1.1, and
// sipgo refuses to send it) goes to the same server by TCP and arrives whole; a short one
// stays on UDP; a server that refuses TCP gets it by UDP after all.
func TestLongMessageGoesByTCP(t *testing.T) {
	p, _, _ := runPhone(t, Config{})
	port, got := messageServer(t, true)
	target := "sip:bob@127.0.0.1:" + strconv.Itoa(port)
	for _, c := range []struct {
		n    int
		want string
	}{{500, "UDP"}, {2000, "TCP"}, {MaxMessageBytes, "TCP"}} {
		text := strings.Repeat("é", c.n/2)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.SendMessage(ctx, "", target, text)
		cancel()
		if err != nil {
			t.Fatalf("%d bytes: %v", len(text), err)
		}
		select {
		case req := <-got:
			if string(req.Body()) != text {
				t.Errorf("%d bytes: the server got %d bytes, not the text", len(text), len(req.Body()))
			}
			if tp := req.Transport(); tp != c.want {
				t.Errorf("%d bytes went by %s, want %s", len(text), tp, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%d bytes: nothing arrived", len(text))
		}
	}

	// A server that takes no TCP gets it by UDP after all, in one datagram.
	port, got = messageServer(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text := strings.Repeat("x", 2000)
	if err := p.SendMessage(ctx, "", "sip:bob@127.0.0.1:"+strconv.Itoa(port), text); err != nil {
		t.Fatalf("a server without TCP: %v", err)
	}
	select {
	case req := <-got:
		if string(req.Body()) != text || req.Transport() != "UDP" {
			t.Errorf("a server without TCP got %d bytes by %s, want the text by UDP", len(req.Body()), req.Transport())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a server without TCP: nothing arrived")
	}
}

// TestLongMessageWhereTCPIsDropped: a server behind a firewall that drops TCP (no refusal:
// the connection never opens) gets a long message by UDP after the short wait, not after the
// caller's whole timeout; tcpOpens itself tells an open port from a closed one.
func TestLongMessageWhereTCPIsDropped(t *testing.T) {
	p, _, _ := runPhone(t, Config{})
	port, got := messageServer(t, true)
	dest := "127.0.0.1:" + strconv.Itoa(port)
	if !tcpOpens(context.Background(), dest) {
		t.Fatal("tcpOpens: a listening port did not open")
	}
	closed := refusedUDP(t) // nothing listens on it over TCP either
	if tcpOpens(context.Background(), closed) {
		t.Fatal("tcpOpens: a closed port opened")
	}
	old := tcpOpens
	tcpOpens = func(context.Context, string) bool { return false } // the SYN went unanswered
	t.Cleanup(func() { tcpOpens = old })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text := strings.Repeat("y", 2000)
	if err := p.SendMessage(ctx, "", "sip:bob@"+dest, text); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if req.Transport() != "UDP" || string(req.Body()) != text {
			t.Fatalf("got %d bytes by %s, want the text by UDP", len(req.Body()), req.Transport())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing arrived")
	}
}

// pendingStore records what the phone stores of the messages it sends.
type pendingStore struct {
	memoryMessages
	mu      sync.Mutex
	pending []Message
	settled map[int64]Message
}

func (s *pendingStore) SavePending(_ context.Context, m Message) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, m)
	return int64(len(s.pending)), nil
}

func (s *pendingStore) Settle(_ context.Context, id int64, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settled == nil {
		s.settled = map[int64]Message{}
	}
	s.settled[id] = m
	return nil
}

// TestSentMessageStoredBeforeItsAnswer: a message is in the history as pending from when it
// leaves, with that time, and settled with the outcome; one given up by our side before its
// answer (a quit, Ctrl-C) stays pending, not failed: it may have been delivered. Before, it was
// stored only once answered, with the answer's time, and a quit mid-send stored it failed.
func TestSentMessageStoredBeforeItsAnswer(t *testing.T) {
	st := &pendingStore{}
	p, _, _ := runPhone(t, Config{Messages: st})
	port, _ := messageServer(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	before := time.Now()
	if err := p.SendMessage(ctx, "", "sip:bob@127.0.0.1:"+strconv.Itoa(port), "hello"); err != nil {
		t.Fatal(err)
	}
	if len(st.pending) != 1 || st.pending[0].Status != "pending" || st.pending[0].Time.Before(before) {
		t.Fatalf("pending %+v, want the message stored pending as it left", st.pending)
	}
	if m, ok := st.settled[1]; !ok || m.Status != "sent" || m.Code != 200 || !m.Time.Equal(st.pending[0].Time) {
		t.Fatalf("settled %+v, want sent 200 at the time it left", st.settled)
	}
	if len(st.saved) != 0 {
		t.Fatalf("also saved whole: %+v", st.saved)
	}

	// A server that never answers, and the user gives up.
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	quit, stop := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, stop) // the user's Ctrl-C
	if err := p.SendMessage(quit, "", "sip:bob@"+silent.LocalAddr().String(), "anyone?"); err == nil {
		t.Fatal("no answer, yet sent")
	}
	if _, ok := st.settled[2]; ok || len(st.pending) != 2 {
		t.Fatalf("a send given up: pending %d, settled %+v; want it left pending", len(st.pending), st.settled[2])
	}
	// A timeout of our own is an outcome: failed, as the send says.
	late, cancelLate := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelLate()
	if err := p.SendMessage(late, "", "sip:bob@"+silent.LocalAddr().String(), "anyone there?"); err == nil {
		t.Fatal("no answer, yet sent")
	}
	if m, ok := st.settled[3]; !ok || m.Status != "failed" {
		t.Fatalf("a send that timed out: settled %+v, want failed", st.settled[3])
	}
}

// TestLongMessageFailsOverToAServerWithoutTCP: a long message that went to the first server
// by TCP, and had no answer there, goes to the next server by UDP when that one takes no TCP.
// The TCP the first attempt had switched to stuck to the request, and the message failed.
func TestLongMessageFailsOverToAServerWithoutTCP(t *testing.T) {
	shortAttempts(t, time.Second)
	// The first server: UDP silent, and TCP connections accepted and never answered.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	mute, _ := silentUDPAt(t, ln.Addr().String())
	port, got := messageServer(t, false) // the second: UDP only
	second := "127.0.0.1:" + strconv.Itoa(port)
	dnsAddr := startTestDNS(t, srvRecord("long.test", 10, mute), aRecord("long.test", 10),
		srvRecord("long.test", 20, second), aRecord("long.test", 20))
	p, _, _ := runPhone(t, Config{KeepAlive: -1, DNSServer: dnsAddr, Accounts: []Account{{Name: "a", AOR: "sip:carol@long.test"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	text := strings.Repeat("z", 2000)
	if err := p.SendMessage(ctx, "a", "bob", text); err != nil {
		t.Fatalf("long message with failover: %v", err)
	}
	select {
	case req := <-got:
		if req.Transport() != "UDP" || string(req.Body()) != text {
			t.Fatalf("the second server got %d bytes by %s, want the text by UDP", len(req.Body()), req.Transport())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing arrived at the second server")
	}
}

// TestMessageAcceptedIsNotDelivered: a MESSAGE answered 202 Accepted (RFC 3428 §7: taken for
// later delivery, as by a store-and-forward server) is reported and kept with that code, not as
// a 200: it was recorded 200 OK, as if the far end had it.
func TestMessageAcceptedIsNotDelivered(t *testing.T) {
	ua, srv := sipgoServer(t)
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 202, "Accepted", nil))
	})
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveUDP(t, ua, srv, pc)
	p, _, events := runPhone(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.SendMessage(ctx, "", "sip:bob@"+pc.LocalAddr().String(), "later"); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if m, ok := ev.(Message); ok && m.Direction == Outgoing && m.Status != "pending" {
				if m.Status != "sent" || m.Code != 202 || m.Reason != "Accepted" {
					t.Fatalf("message %s %d %q, want sent 202 Accepted", m.Status, m.Code, m.Reason)
				}
				return
			}
		case <-deadline:
			t.Fatal("no event for the sent message")
		}
	}
}

package phone

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
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
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
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

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/dialtone/dialtone/phone/store"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestCallAContactWithItsURIParameters: `dialtone call Name` dials the contact's address with
// its URI parameters: the far end's INVITE names ";user=phone" (RFC 3261 19.1.1, which
// providers read to route a number). The address book dropped it.
func TestCallAContactWithItsURIParameters(t *testing.T) {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var invites atomic.Int32
	var userParam atomic.Value
	answeringUAS(t, conn, func(req *sip.Request) {
		invites.Add(1)
		v, _ := req.Recipient.UriParams.Get("user")
		userParam.Store(v)
	})
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	data := filepath.Join(dir, "data")
	uri := fmt.Sprintf("sip:+15550100@%s;user=phone", conn.LocalAddr())
	if code, out, errb := runArgs(t, "--data-dir="+data, "contacts", "add", "Number", uri); code != 0 {
		t.Fatalf("contacts add: exit %d %s %s", code, out, errb)
	}
	s, err := store.OpenReadOnly(filepath.Join(data, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.ContactByName(context.Background(), "number")
	s.Close()
	if err != nil || len(c.URIs) != 1 || c.URIs[0] != uri {
		t.Fatalf("stored %+v, %v; want %s", c, err, uri)
	}
	code, out, errb := runArgs(t, "--data-dir="+data, "call", "Number", "--audio", "null", "--duration", "300ms")
	if code != 0 || invites.Load() == 0 {
		t.Fatalf("call Number: exit %d, %d INVITEs\nstdout %s\nstderr %s", code, invites.Load(), out, errb)
	}
	if got, _ := userParam.Load().(string); got != "phone" {
		t.Errorf("the INVITE's Request-URI has user=%q, want user=phone", got)
	}
}

// answeringUAS answers calls on conn with a G.711 answer, seeing each INVITE first, until the
// test ends.
func answeringUAS(t *testing.T, conn net.PacketConn, saw func(*sip.Request)) {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	host := conn.LocalAddr().String()
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		saw(req)
		body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
			"m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
		res := sip.NewResponseFromRequest(req, 200, "OK", []byte(body))
		res.AppendHeader(sip.NewHeader("Contact", "<sip:uas@"+host+">"))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); <-served; srv.Close(); ua.Close() })
}

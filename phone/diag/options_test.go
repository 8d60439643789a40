package diag

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

func answerFor(req []byte, code int, reason, received string) []byte {
	var via, callID string
	for _, line := range strings.Split(string(req), "\r\n") {
		switch {
		case strings.HasPrefix(line, "Via: "):
			via = strings.TrimPrefix(line, "Via: ")
		case strings.HasPrefix(line, "Call-ID: "):
			callID = strings.TrimPrefix(line, "Call-ID: ")
		}
	}
	if received != "" {
		host, port, _ := strings.Cut(received, ":")
		via = strings.Replace(via, ";rport", ";received="+host+";rport="+port, 1)
	}
	return fmt.Appendf(nil, "SIP/2.0 %d %s\r\nVia: %s\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nServer: test-registrar\r\nContent-Length: 0\r\n\r\n",
		code, reason, via, callID)
}

func testInput() *Input {
	return &Input{Account: phone.Account{Name: "a", AOR: "sip:alice@example.com"}}
}

// A UDP server that first sends garbage and a 100 Trying, then 405: the probe skips the
// first two and reports the 405 as "a server is there", with what it saw in Via.
func TestProbeUDPAnswer(t *testing.T) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 4096)
		n, from, err := srv.ReadFrom(buf)
		if err != nil {
			return
		}
		srv.WriteTo([]byte("garbage"), from)
		srv.WriteTo(answerFor(buf[:n], 100, "Trying", ""), from)
		srv.WriteTo(answerFor(buf[:n], 405, "Method Not Allowed", "203.0.113.9:1234"), from)
	}()
	target := Target{Transport: phone.UDP, Host: "example.com", Addr: srv.LocalAddr().(*net.UDPAddr).AddrPort()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := probeUDP(ctx, testInput(), target)
	if p.Err != nil || p.Code != 405 || p.Server != "test-registrar" || p.RTT <= 0 {
		t.Fatalf("probe %+v", p)
	}
	if p.Received != ap("203.0.113.9:1234") {
		t.Fatalf("received %v", p.Received)
	}
	c, _ := checkTransport(ctx, testInput(), phone.UDP, nil)
	if c.Status != Fail { // no targets at all for the account's transport
		t.Fatalf("no targets: %v", c.Status)
	}
}

func TestProbeUDPRefusedAndSilent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.LocalAddr().(*net.UDPAddr).AddrPort()
	closed.Close()
	target := Target{Transport: phone.UDP, Host: "example.com", Addr: addr}
	c, _ := checkTransport(ctx, testInput(), phone.UDP, []Target{target})
	if c.Status != Fail || c.Failure != phone.FailureNetwork || !strings.Contains(c.Verdict, "connection refused") {
		t.Fatalf("closed port: %v %q", c.Status, c.Verdict)
	}
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	target.Addr = silent.LocalAddr().(*net.UDPAddr).AddrPort()
	short, cancel2 := context.WithTimeout(ctx, 1200*time.Millisecond)
	defer cancel2()
	p := probeUDP(short, testInput(), target)
	if what, refused := probeError(p.Err, target); refused || !strings.Contains(what, "timeout") {
		t.Fatalf("silent server: %q refused=%v (%v)", what, refused, p.Err)
	}
}

// A TCP server that sends a CRLF keep-alive and then a 200 with a body.
func TestProbeStreamTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req, err := readStreamMessage(bufio.NewReader(conn))
		if err != nil {
			return
		}
		res := answerFor(req, 200, "OK", "")
		res = bytes.Replace(res, []byte("Content-Length: 0\r\n\r\n"), []byte("Content-Length: 4\r\n\r\nabcd"), 1)
		conn.Write(append([]byte("\r\n\r\n"), res...))
		time.Sleep(100 * time.Millisecond)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	target := Target{Transport: phone.TCP, Host: "example.com", Addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	c, ps := checkTransport(ctx, testInput(), phone.TCP, []Target{target})
	if len(ps) != 1 || ps[0].Code != 200 || ps[0].Err != nil {
		t.Fatalf("probes %+v", ps)
	}
	// the account uses UDP: TCP is an extra, reported OK
	if c.Status != OK || !strings.Contains(c.Note, "also offered") {
		t.Fatalf("status %v note %q", c.Status, c.Note)
	}
}

func TestReadStreamMessage(t *testing.T) {
	in := "\r\n\r\nSIP/2.0 200 OK\r\nl: 3\r\n\r\nabcSIP/2.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	r := strings.NewReader(in)
	m1, err := readStreamMessage(r)
	if err != nil || !strings.HasSuffix(string(m1), "\r\n\r\nabc") {
		t.Fatalf("first: %q %v", m1, err)
	}
	m2, err := readStreamMessage(r)
	if err != nil || !strings.HasPrefix(string(m2), "SIP/2.0 404") {
		t.Fatalf("second: %q %v", m2, err)
	}
	if _, err := readStreamMessage(r); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
	if _, err := readStreamMessage(strings.NewReader("SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n")); err == nil {
		t.Fatal("bad Content-Length accepted")
	}
}

func TestParseAnswerMatchesCallID(t *testing.T) {
	req := optionsRequest(testInput(), Target{Transport: phone.UDP, Host: "example.com", Addr: ap("198.51.100.1:5060")}, ap("192.0.2.1:4000"), "cid-1", "z9hG4bKx")
	if !bytes.Contains(req, []byte("OPTIONS sip:example.com:5060 SIP/2.0\r\n")) || !bytes.Contains(req, []byte("Via: SIP/2.0/UDP 192.0.2.1:4000;branch=z9hG4bKx;rport")) {
		t.Fatalf("request:\n%s", req)
	}
	if parseAnswer(answerFor(req, 200, "OK", ""), "cid-1") == nil {
		t.Fatal("own answer not recognised")
	}
	if parseAnswer(answerFor(req, 200, "OK", ""), "cid-2") != nil {
		t.Fatal("another call's answer accepted")
	}
	if parseAnswer(answerFor(req, 180, "Ringing", ""), "cid-1") != nil {
		t.Fatal("provisional answer accepted as final")
	}
	if parseAnswer(req, "cid-1") != nil {
		t.Fatal("a request accepted as an answer")
	}
}

// Over IPv6 the request names the server as [addr]:port and our Via as [addr]:port.
func TestProbeUDPOverIPv6(t *testing.T) {
	srv, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	defer srv.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		n, from, err := srv.ReadFrom(buf)
		if err != nil {
			return
		}
		got <- string(buf[:n])
		srv.WriteTo(answerFor(buf[:n], 200, "OK", ""), from)
	}()
	addr := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := probeUDP(ctx, testInput(), Target{Transport: phone.UDP, Host: "::1", Addr: addr})
	if p.Err != nil || p.Code != 200 {
		t.Fatalf("probe %+v", p)
	}
	req := <-got
	if !strings.HasPrefix(req, fmt.Sprintf("OPTIONS sip:[::1]:%d SIP/2.0\r\n", addr.Port())) || !strings.Contains(req, "Via: SIP/2.0/UDP [::1]:") {
		t.Fatalf("request:\n%s", req)
	}
	if p.Received.IsValid() && p.Received != p.Local {
		t.Fatalf("loopback seen as %v, local %v", p.Received, p.Local)
	}
}

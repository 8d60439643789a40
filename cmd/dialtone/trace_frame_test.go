package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone/srtp"
)

type readsTracer struct{ reads [][]byte }

func (r *readsTracer) SIPTraceRead(_, _, _ string, msg []byte) {
	r.reads = append(r.reads, append([]byte(nil), msg...))
}
func (r *readsTracer) SIPTraceWrite(string, string, string, []byte) {}

// TestTracersGetWholeMessagesFromTCP: sipgo hands the tracers what each TCP read got: here an
// offer cut inside its SRTP key, the rest of it together with the next message. The tracers get
// the two messages whole, so the key is masked (it reached --pcap, --sip-trace and the log pane
// in clear when split) and the capture's Content-Length recounted.
func TestTracersGetWholeMessagesFromTCP(t *testing.T) {
	c, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA180)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(strings.Fields(c.String())[2], "inline:")
	sdp := "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:" + c.String() + "\r\n"
	invite := "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: tcp-1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: " + itoa(len(sdp)) + "\r\n\r\n" + sdp
	bye := "BYE sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: tcp-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
	stream := invite + bye
	cut := strings.Index(stream, key) + len(key)/2

	rec := &readsTracer{}
	f := framed(rec)
	f.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(stream[:cut]))
	f.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(stream[cut:]))
	if len(rec.reads) != 2 || string(rec.reads[0]) != invite || string(rec.reads[1]) != bye {
		t.Fatalf("the tracer got %d pieces, want the INVITE and the BYE whole: %q", len(rec.reads), rec.reads)
	}

	file := filepath.Join(t.TempDir(), "tcp.pcapng")
	capture := &pcapCapture{path: file, routes: map[netip.Addr]netip.Addr{}}
	pf := framed(&pcapTracer{c: capture})
	pf.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(stream[:cut]))
	pf.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(stream[cut:]))
	capture.order.flush()
	if w := capture.w.Load(); w == nil || w.Close() != nil {
		t.Fatalf("no capture written: %v", capture.err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(key[len(key)/2:])) || bytes.Contains(b, []byte(key[:len(key)/2])) {
		t.Fatal("the capture holds the SRTP key")
	}
	code, out, errOut := runArgs(t, "trace", file)
	if code != 0 || !strings.Contains(out, "INVITE") || !strings.Contains(out, "BYE") {
		t.Fatalf("trace of the capture: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestFramedTracerPassesPongsAndLeftovers: a keep-alive pong (CRLF) is shown as it came, not
// trimmed away; what a connection read of a message that never completed is passed on once the
// connection has been idle for framedIdle, or at exit (flush), not lost.
func TestFramedTracerPassesPongsAndLeftovers(t *testing.T) {
	rec := &readsTracer{}
	f := framed(rec)
	clock := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return clock }
	f.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte("\r\n"))
	if len(rec.reads) != 1 || string(rec.reads[0]) != "\r\n" {
		t.Fatalf("a pong: %q", rec.reads)
	}
	half := "INVITE sip:bob@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\n"
	f.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte(half))
	f.SIPTraceRead("TLS", "127.0.0.1:5063", "127.0.0.1:5091", []byte("OPTIONS sip:x SIP/2.0\r\n"))
	clock = clock.Add(framedIdle + time.Second)
	f.SIPTraceRead("UDP", "127.0.0.1:5062", "127.0.0.1:5090", []byte("SIP/2.0 200 OK\r\n\r\n")) // any read sweeps
	if len(rec.reads) != 4 || string(rec.reads[1]) != half && string(rec.reads[2]) != half {
		t.Fatalf("after an idle time: %q; want both partial messages passed on", rec.reads)
	}
	f.SIPTraceRead("TCP", "127.0.0.1:5062", "127.0.0.1:5090", []byte("BYE sip:bob@127.0.0.1 SIP/2.0\r\n"))
	f.flush()
	if len(rec.reads) != 5 || !strings.HasPrefix(string(rec.reads[4]), "BYE") {
		t.Fatalf("at exit: %q", rec.reads)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/phone/srtp"
)

// traceCall writes a short call's SIP through the --pcap tracer, as sipgo would hand it over:
// dialtone on a socket bound to all interfaces sends an INVITE with an SDES key, receives 180
// and 200, sends ACK; a second dialog (a MESSAGE) is interleaved.
func traceCall(t *testing.T) (file, key string) {
	t.Helper()
	c, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA180)
	if err != nil {
		t.Fatal(err)
	}
	key = strings.TrimPrefix(strings.Fields(c.String())[2], "inline:")
	msg := func(first, callID, cseq, body string) []byte {
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		return []byte(first + "\r\nCall-ID: " + callID + "\r\nCSeq: " + cseq + "\r\n" + ct +
			"Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
	}
	sdp := "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:" + c.String() + "\r\n"
	file = filepath.Join(t.TempDir(), "call.pcapng")
	capture := &pcapCapture{path: file, routes: map[netip.Addr]netip.Addr{}}
	tr := &pcapTracer{c: capture}
	const local, bob = "0.0.0.0:5062", "127.0.0.1:5090"
	tr.SIPTraceWrite("UDP", local, bob, msg("INVITE sip:bob@127.0.0.1:5090 SIP/2.0", "call-1", "1 INVITE", sdp))
	tr.SIPTraceRead("UDP", local, bob, msg("SIP/2.0 180 Ringing", "call-1", "1 INVITE", ""))
	tr.SIPTraceWrite("UDP", local, bob, msg("MESSAGE sip:bob@127.0.0.1:5090 SIP/2.0", "msg-1", "1 MESSAGE", ""))
	tr.SIPTraceRead("UDP", local, bob, msg("SIP/2.0 200 OK", "call-1", "1 INVITE", sdp))
	tr.SIPTraceWrite("UDP", local, bob, msg("ACK sip:bob@127.0.0.1:5090 SIP/2.0", "call-1", "1 ACK", ""))
	capture.order.flush()
	if w := capture.w.Load(); w == nil || w.Close() != nil {
		t.Fatalf("no capture written: %v", capture.err)
	}
	return file, key
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestPcapMasksKeysAndAddresses: the capture holds no SRTP key (the mask instead), each
// message's direction, and the address a socket on all interfaces really sends from.
func TestPcapMasksKeysAndAddresses(t *testing.T) {
	file, key := traceCall(t)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(key)) || !bytes.Contains(raw, []byte(srtp.KeyMask)) {
		t.Fatal("the capture holds the SRTP key, or no mask")
	}
	var got []string
	err = pcap.ReadSIP(bytes.NewReader(raw), func(m pcap.SIPMessage) error {
		got = append(got, direction(m)+" "+m.Src.String()+" "+m.Dst.String()+" "+m.Summary())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"sent 127.0.0.1:5062 127.0.0.1:5090 INVITE", "received 127.0.0.1:5090 127.0.0.1:5062 180 Ringing",
		"sent 127.0.0.1:5062 127.0.0.1:5090 MESSAGE", "received 127.0.0.1:5090 127.0.0.1:5062 200 OK",
		"sent 127.0.0.1:5062 127.0.0.1:5090 ACK",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("capture:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTraceLadder: `dialtone trace` groups by Call-ID in order of each dialog's first message,
// arrows point from the sender; --json has one object per message; --full shows masked text.
func TestTraceLadder(t *testing.T) {
	file, key := traceCall(t)
	code, out, errOut := runArgs(t, "trace", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 2 && f[0] == "Call-ID":
			lines = append(lines, f[1])
		case len(f) >= 5:
			lines = append(lines, strings.Join(f[2:], " "))
		}
	}
	want := []string{
		"call-1",
		"127.0.0.1:5062 -- INVITE (SDP) --------------> 127.0.0.1:5090",
		"127.0.0.1:5062 <--------------- 180 Ringing -- 127.0.0.1:5090",
		"127.0.0.1:5062 <-------------- 200 OK (SDP) -- 127.0.0.1:5090",
		"127.0.0.1:5062 -- ACK -----------------------> 127.0.0.1:5090",
		"msg-1",
		"127.0.0.1:5062 -- MESSAGE -------------------> 127.0.0.1:5090",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant (fields):\n%s", out, strings.Join(want, "\n"))
	}

	code, out, _ = runArgs(t, "--json", "trace", "--call-id", "call-1", file)
	var recs []traceJSON
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r traceJSON
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	if code != 0 || len(recs) != 4 || recs[0].Method != "INVITE" || !recs[0].SDP || recs[0].Direction != "sent" ||
		recs[1].Status != 180 || recs[1].Direction != "received" || recs[2].Status != 200 || recs[3].Method != "ACK" || recs[1].Src != "127.0.0.1:5090" {
		t.Errorf("--json --call-id call-1 (exit %d): %+v", code, recs)
	}

	_, out, _ = runArgs(t, "trace", "--full", file)
	if strings.Contains(out, key) || !strings.Contains(out, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+srtp.KeyMask) {
		t.Errorf("--full shows the key or no masked a=crypto line:\n%s", out)
	}
}

func TestTraceBadInput(t *testing.T) {
	notPcap := filepath.Join(t.TempDir(), "x")
	os.WriteFile(notPcap, []byte("INVITE sip:bob SIP/2.0\r\n\r\n"), 0o600)
	if code, _, errOut := runArgs(t, "trace", notPcap); code != exitUsage || !strings.Contains(errOut, "neither pcap nor pcapng") {
		t.Errorf("not a capture: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runArgs(t, "trace", filepath.Join(t.TempDir(), "missing")); code != exitUsage {
		t.Errorf("missing file: exit %d, %q", code, errOut)
	}
	// Cut short (a capture still being written): the ladder of what is there, and the error.
	file, _ := traceCall(t)
	raw, _ := os.ReadFile(file)
	os.WriteFile(file, raw[:len(raw)-20], 0o600)
	code, out, errOut := runArgs(t, "trace", file)
	if code != exitUsage || strings.Count(out, "127.0.0.1:5090") != 4 || !strings.Contains(errOut, "truncated") {
		t.Errorf("truncated capture: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runArgs(t, "--pcap-rtp", "version"); code != exitUsage || !strings.Contains(errOut, "--pcap-rtp needs --pcap") {
		t.Errorf("--pcap-rtp alone: exit %d, %q", code, errOut)
	}
}

// TestMaskForCaptureRecountsBody: the masked message's Content-Length is its body's length
// (tshark reads a SIP message over TCP by it), and messages that are not whole stay as masked.
func TestMaskForCaptureRecountsBody(t *testing.T) {
	c, err := srtp.NewCrypto(1, srtp.AEADAES256GCM)
	if err != nil {
		t.Fatal(err)
	}
	body := "v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:" + c.String() + "\r\n"
	for _, cl := range []string{"Content-Length: ", "l:", "content-length:   "} {
		msg := "INVITE sip:bob@x SIP/2.0\r\nCall-ID: 1\r\n" + cl + strconv.Itoa(len(body)) + "\r\nCSeq: 1 INVITE\r\n\r\n" + body
		got := string(maskForCapture([]byte(msg)))
		head, b, _ := strings.Cut(got, "\r\n\r\n")
		m, ok := pcap.ParseSIP([]byte(got))
		if !ok || m.CallID != "1" || strings.Contains(got, strings.Fields(c.String())[2]) || !strings.Contains(b, srtp.KeyMask) ||
			!strings.Contains(head, strings.TrimSpace(strings.TrimSuffix(cl, " "))) || !strings.Contains(head, " "+strconv.Itoa(len(b))+"\r\n") {
			t.Errorf("%q: masked to\n%s", cl, got)
		}
		// Part of a message (a TCP read cut it): masked, the count left alone.
		part := msg[:len(msg)-3]
		if got := string(maskForCapture([]byte(part))); !strings.Contains(got, srtp.KeyMask) || !strings.Contains(got, strconv.Itoa(len(body))) {
			t.Errorf("part of a message masked to\n%s", got)
		}
	}
}

// TestTraceCleansWhatTheCaptureCarries: a capture is someone's file; a reason phrase or a
// Call-ID with terminal escapes prints without them, in the ladder and with --full.
func TestTraceCleansWhatTheCaptureCarries(t *testing.T) {
	file := filepath.Join(t.TempDir(), "evil.pcapng")
	capture := &pcapCapture{path: file, routes: map[netip.Addr]netip.Addr{}}
	tr := &pcapTracer{c: capture}
	const local, bob = "0.0.0.0:5062", "127.0.0.1:5090"
	tr.SIPTraceWrite("UDP", local, bob, []byte("OPTIONS sip:bob@127.0.0.1:5090 SIP/2.0\r\nCall-ID: x\x1b[2Jy\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	tr.SIPTraceRead("UDP", local, bob, []byte("SIP/2.0 403 Forbidden\x1b]52;c;eA==\x07\r\nCall-ID: x\x1b[2Jy\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	capture.order.flush()
	if w := capture.w.Load(); w == nil || w.Close() != nil {
		t.Fatalf("no capture written: %v", capture.err)
	}
	for _, args := range [][]string{{"trace", file}, {"trace", "--full", file}} {
		code, out, errOut := runArgs(t, args...)
		if code != 0 || !strings.Contains(out, "403") || strings.ContainsFunc(strings.ReplaceAll(out, "\n", ""), unicode.IsControl) {
			t.Fatalf("%v: exit %d, %q (%s)", args, code, out, errOut)
		}
	}
}

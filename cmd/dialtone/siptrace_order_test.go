package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSIPTracePutsAnswersAfterTheirCause: sipgo reports our BYE after the write returns, and
// the 200 that answers it can be reported first; the --sip-trace file, like the capture, writes
// the BYE first (CI once saw the trace and the capture disagree on exactly this).
func TestSIPTracePutsAnswersAfterTheirCause(t *testing.T) {
	var file bytes.Buffer
	tr := &sipTracer{w: &file}
	const me, far = "127.0.0.1:5062", "127.0.0.1:5090"
	msg := func(first, cseq string) []byte {
		return []byte(first + "\r\nVia: SIP/2.0/TLS 127.0.0.1:5062;rport;branch=z9hG4bKbye\r\nCall-ID: c1\r\nCSeq: " + cseq + "\r\nContent-Length: 0\r\n\r\n")
	}
	tr.SIPTraceRead("TLS", me, far, msg("SIP/2.0 200 OK", "3 BYE")) // before its BYE
	if file.Len() != 0 {
		t.Fatalf("the answer was written before its request:\n%s", file.String())
	}
	tr.SIPTraceWrite("TLS", me, far, msg("BYE sip:far SIP/2.0", "3 BYE"))
	tr.order.flush()
	bye, ok := strings.CutPrefix(file.String(), "=== ")
	if !ok || !strings.Contains(bye, " send TLS ") {
		t.Fatalf("trace:\n%s", file.String())
	}
	i, j := strings.Index(file.String(), "BYE sip:far"), strings.Index(file.String(), "SIP/2.0 200 OK")
	if i < 0 || j < 0 || i > j {
		t.Fatalf("want the BYE, then its 200:\n%s", file.String())
	}
}

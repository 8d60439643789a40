package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/dialtone/dialtone/ui"
)

// TestSIPTraceMasksSRTPKeys: a trace file holds SIP bodies, and an SDES key in one would let
// whoever has the file and a capture decrypt the call; the tracer writes the mask instead.
func TestSIPTraceMasksSRTPKeys(t *testing.T) {
	c, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA180)
	if err != nil {
		t.Fatal(err)
	}
	line := "a=crypto:" + c.String()
	key := strings.TrimPrefix(strings.Fields(c.String())[2], "inline:")
	msg := []byte("INVITE sip:bob@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nm=audio 4000 RTP/SAVP 0\r\n" + line + "\r\n")
	var file bytes.Buffer
	(&sipTracer{w: &file}).SIPTraceWrite("UDP", "127.0.0.1:5060", "127.0.0.1:5062", msg)
	if strings.Contains(file.String(), key) || !strings.Contains(file.String(), srtp.KeyMask) {
		t.Errorf("the trace file shows the SRTP key or no mask:\n%s", file.String())
	}
	logs := make(chan ui.LogLine, 1)
	(&paneTracer{logs: logs}).SIPTraceRead("UDP", "127.0.0.1:5060", "127.0.0.1:5062", msg)
	pane := (<-logs).Text
	if strings.Contains(pane, key) || !strings.Contains(pane, srtp.KeyMask) {
		t.Errorf("the log pane shows the SRTP key or no mask:\n%s", pane)
	}
}

package main

import (
	"bytes"
	"strconv"

	"github.com/dialtone/dialtone/phone/pcap"
	"github.com/dialtone/dialtone/phone/srtp"
)

// maskForCapture is msg with its SRTP keys masked (srtp.MaskCryptoLines) and, because the
// mask is shorter than a key, its Content-Length made to match the shorter body: a capture
// whose Content-Length disagrees with its body is malformed to Wireshark, which over TCP
// waits for bytes that never come and loses the message. msg is left alone when it is not
// one whole message (a TCP read may carry part of one, or two).
func maskForCapture(msg []byte) []byte {
	masked := srtp.MaskCryptoLines(msg)
	if len(masked) == len(msg) {
		return masked
	}
	oEnd := bytes.Index(msg, []byte("\r\n\r\n"))
	mEnd := bytes.Index(masked, []byte("\r\n\r\n"))
	if oEnd < 0 || mEnd < 0 || oEnd != mEnd {
		return masked // a key in the headers, or no header end: nothing to recount
	}
	if !wholeMessage(msg, oEnd) {
		return masked // not one whole message
	}
	return pcap.SetContentLength(masked)
}

// wholeMessage says whether msg, whose headers end at headEnd, is one message: its
// Content-Length is its body's length.
func wholeMessage(msg []byte, headEnd int) bool {
	for v := range pcap.HeaderValues(msg[:headEnd], "Content-Length", "l") {
		cl, err := strconv.Atoi(string(v))
		return err == nil && cl == len(msg)-(headEnd+4)
	}
	return false
}

package main

import (
	"bytes"
	"strconv"

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
	head := masked[:mEnd]
	start := 0
	for line := range bytes.Lines(head) {
		name, v, ok := bytes.Cut(line, []byte(":"))
		n := bytes.TrimSpace(name)
		if ok && (bytes.EqualFold(n, []byte("Content-Length")) || bytes.EqualFold(n, []byte("l"))) {
			cl, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil || cl != len(msg)-(oEnd+4) {
				return masked // not one whole message
			}
			vStart := start + len(name) + 1
			vEnd := start + len(bytes.TrimRight(line, "\r\n"))
			out := make([]byte, 0, len(masked))
			out = append(out, masked[:vStart]...)
			out = append(out, ' ')
			out = strconv.AppendInt(out, int64(len(masked)-(mEnd+4)), 10)
			return append(out, masked[vEnd:]...)
		}
		start += len(line)
	}
	return masked
}

package pcap

import (
	"bytes"
	"strconv"
)

// SetContentLength returns msg with its Content-Length (or compact "l") header saying the
// length of the body as it is, for a message whose body was changed (SRTP keys masked, line
// ends trimmed by a log line): a capture whose Content-Length disagrees with its body is
// malformed to Wireshark, which over TCP waits for bytes that never come. A message without
// the blank line that ends its headers, or without the header, is returned as it is.
func SetContentLength(msg []byte) []byte {
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		return msg
	}
	body := len(msg) - (end + 4)
	start := 0
	for line := range bytes.Lines(msg[:end+2]) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if n := bytes.TrimSpace(name); start > 0 && ok && (bytes.EqualFold(n, []byte("Content-Length")) || bytes.EqualFold(n, []byte("l"))) {
			vStart := start + len(name) + 1
			vEnd := start + len(bytes.TrimRight(line, "\r\n"))
			out := make([]byte, 0, len(msg)+8)
			out = append(out, msg[:vStart]...)
			out = append(out, ' ')
			out = strconv.AppendInt(out, int64(body), 10)
			return append(out, msg[vEnd:]...)
		}
		start += len(line)
	}
	return msg
}

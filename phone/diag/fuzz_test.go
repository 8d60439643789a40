package diag

import (
	"bytes"
	"testing"
)

// FuzzParseAnswer: whatever arrives on a probe's socket, parsing it must not panic, and only
// a final response carrying our Call-ID is taken.
func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4;rport=5;received=6.7.8.9\r\nCall-ID: c\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("SIP/2.0 100 Trying\r\nCall-ID: c\r\n\r\n"))
	f.Add([]byte("SIP/2.0 "))
	f.Fuzz(func(t *testing.T, b []byte) {
		res := parseAnswer(b, "c")
		if res == nil {
			return
		}
		if res.StatusCode < 200 || res.CallID() == nil || res.CallID().Value() != "c" {
			t.Fatalf("accepted %d with Call-ID %v", res.StatusCode, res.CallID())
		}
		var p probe
		p.fill(res, 1) // Via parameters of any shape
	})
}

// FuzzReadStreamMessage: a stream reader that ends, errs or returns one bounded message.
func FuzzReadStreamMessage(f *testing.F) {
	f.Add([]byte("\r\nSIP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nab"))
	f.Add([]byte("SIP/2.0 200 OK\r\nl: 99999999\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readStreamMessage(bytes.NewReader(b))
		if err == nil && (len(m) > 2*maxSIPMessage || !bytes.Contains(m, []byte("\r\n\r\n"))) {
			t.Fatalf("message of %d bytes without an end of headers", len(m))
		}
	})
}

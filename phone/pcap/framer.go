package pcap

import (
	"bytes"
	"strconv"
)

// Framer cuts whole SIP messages off one direction of a TCP or TLS stream fed to it piece by
// piece, in time linear in what it is fed: it remembers how far it has looked for the end of
// the headers, and once they are in, how long the message is. Looking again from the start for
// every piece let a capture, or a peer on a traced connection, that trickles a message a byte
// at a time cost O(n²): ~10¹⁰ byte comparisons for one message at the 256 KiB limit.
type Framer struct {
	buf     []byte
	scanned int // bytes of buf searched for the headers' end without finding it
	total   int // the first message's length once its headers are in, else 0
}

// Write appends p to what the stream holds.
func (f *Framer) Write(p []byte) { f.buf = append(f.buf, p...) }

// Next takes the next whole message off the stream (CRLF keep-alives before it skipped, its
// end by its Content-Length); ok is false until one is whole. msg stays valid after later
// Writes: they never write over it.
func (f *Framer) Next() (msg []byte, ok bool) {
	if f.total == 0 {
		if f.scanned == 0 { // a message's start: the keep-alives before it go
			f.buf = bytes.TrimLeft(f.buf, "\r\n")
		}
		end, sep := headersEnd(f.buf, max(0, f.scanned-2))
		if end < 0 {
			f.scanned = len(f.buf)
			return nil, false
		}
		n := 0
		for v := range HeaderValues(f.buf[:end], "Content-Length", "l") {
			n, _ = strconv.Atoi(string(v)) // the last one counts
		}
		if n < 0 || n > maxStream {
			n = 0
		}
		f.total = end + sep + n
	}
	if len(f.buf) < f.total {
		return nil, false
	}
	msg = f.buf[:f.total:f.total] // an append to msg cannot reach what follows
	f.buf = f.buf[f.total:]
	f.total, f.scanned = 0, 0
	return msg, true
}

// Pending is what the stream holds that is not a whole message yet.
func (f *Framer) Pending() []byte { return f.buf }

// Reset drops what the stream holds.
func (f *Framer) Reset() { f.buf, f.scanned, f.total = nil, 0, 0 }

// headersEnd finds the blank line that ends a message's headers in b, looking at line ends
// from index from on: where the headers end and how long the blank line's separator is
// ("\r\n\r\n" 4, "\n\n" 2, a bare LF line then "\r\n" 3), or -1 when no line end from there
// is one yet. A line end in the last two bytes may be one once more comes: the caller looks
// from two bytes before the end the next time.
func headersEnd(b []byte, from int) (end, sep int) {
	for i := from; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, 0
		}
		k := i + j // b[k] is '\n'
		switch {
		case k+1 < len(b) && b[k+1] == '\n':
			return k, 2
		case k+2 < len(b) && b[k+1] == '\r' && b[k+2] == '\n':
			if k > 0 && b[k-1] == '\r' {
				return k - 1, 4
			}
			return k, 3
		}
		i = k + 1
	}
}

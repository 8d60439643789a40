package pcap

import (
	"bytes"
	"iter"
)

// HeaderValues yields, in order, the value (trimmed) of every line of a SIP message's header
// block head whose name is long or its compact form (RFC 3261 §7.3.3), ignoring case: what a
// capture's reader needs of a message without parsing it whole. head should stop at the blank
// line; CRLF or LF line ends both do.
func HeaderValues(head []byte, long, compact string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for line := range bytes.Lines(head) {
			name, v, ok := bytes.Cut(line, []byte(":"))
			name = bytes.TrimSpace(name)
			if ok && (bytes.EqualFold(name, []byte(long)) || bytes.EqualFold(name, []byte(compact))) {
				if !yield(bytes.TrimSpace(v)) {
					return
				}
			}
		}
	}
}

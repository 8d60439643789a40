package pcap

import (
	"slices"
	"testing"
)

// TestHeaderValues: long and compact names in any case, CRLF and LF line ends, every value in
// order, the start line and lines without a colon skipped, and an early stop.
func TestHeaderValues(t *testing.T) {
	head := []byte("INVITE sip:l@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n" +
		"v : SIP/2.0/UDP b;branch=z9hG4bK2\nCONTENT-LENGTH:  12 \r\nl:7\r\nnot a header\r\nc: application/sdp\r\n")
	var got []string
	for v := range HeaderValues(head, "Via", "v") {
		got = append(got, string(v))
	}
	if want := []string{"SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"}; !slices.Equal(got, want) {
		t.Errorf("Via: %q, want %q", got, want)
	}
	got = nil
	for v := range HeaderValues(head, "Content-Length", "l") {
		got = append(got, string(v))
		break
	}
	if want := []string{"12"}; !slices.Equal(got, want) {
		t.Errorf("Content-Length, first only: %q, want %q", got, want)
	}
	for v := range HeaderValues(head, "Contact", "m") {
		t.Errorf("Contact: found %q in a message without one", v)
	}
}

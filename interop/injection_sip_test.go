package interop

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"golang.org/x/sys/unix"

	"github.com/dialtone/dialtone/codec"
)

// Helpers for injection_test.go: the dialog and media addresses of a call read from
// dialtone's --sip-trace, hand-built in-dialog requests, and RTP with a forged source.

// traceMsg is one message of a --sip-trace file: its direction, the transport addresses
// and the SIP text.
type traceMsg struct {
	dir, from, to string
	text          string
}

func readTrace(t *testing.T, path string) []traceMsg {
	t.Helper()
	var out []traceMsg
	for _, chunk := range strings.Split("\n"+readFile(t, path), "\n=== ")[1:] {
		first, text, _ := strings.Cut(chunk, "\n")
		// "<time> <dir> <transport> <from> -> <to> (<n> bytes)"
		f := strings.Fields(first)
		if len(f) < 6 {
			continue
		}
		out = append(out, traceMsg{dir: f[1], from: f[3], to: f[5], text: text})
	}
	return out
}

// header returns the first value of header name in a SIP message ("" if absent).
func header(msg, name string) string {
	re := regexp.MustCompile(`(?mi)^` + regexp.QuoteMeta(name) + `\s*:\s*(.*?)\r?$`)
	if m := re.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// tagOf is the tag parameter of a From or To value.
func tagOf(v string) string {
	if m := regexp.MustCompile(`;\s*tag=([^;>\s]+)`).FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return ""
}

// bodyOf is a SIP message's body.
func bodyOf(msg string) string {
	if _, b, ok := strings.Cut(msg, "\r\n\r\n"); ok {
		return b
	}
	_, b, _ := strings.Cut(msg, "\n\n")
	return strings.ReplaceAll(b, "\n", "\r\n")
}

// dialogInfo is what a forger needs to speak as the far end of dialtone's outgoing call.
type dialogInfo struct {
	callID             string
	localTag, farTag   string // dialtone's From tag, the far end's To tag
	localURI, farURI   string // the From and To URIs of the INVITE
	sipAddr            netip.AddrPort
	contact            string // dialtone's Contact URI: where in-dialog requests go
	farContact, farSDP string // the far end's Contact and its SDP answer
	farSIP             netip.AddrPort
}

// dialogFromTrace reads the dialog of the first INVITE dialtone sent and its 200.
func dialogFromTrace(t *testing.T, path string) dialogInfo {
	t.Helper()
	var d dialogInfo
	for _, m := range readTrace(t, path) {
		switch {
		case m.dir == "send" && strings.HasPrefix(m.text, "INVITE ") && d.callID == "":
			d.callID = header(m.text, "Call-ID")
			from, to := header(m.text, "From"), header(m.text, "To")
			d.localTag = tagOf(from)
			d.localURI, d.farURI = uriOf(from), uriOf(to)
			d.contact = uriOf(header(m.text, "Contact"))
			d.sipAddr = netip.MustParseAddrPort(m.from)
			d.farSIP = netip.MustParseAddrPort(m.to)
		case m.dir == "recv" && strings.HasPrefix(m.text, "SIP/2.0 200") &&
			strings.HasSuffix(header(m.text, "CSeq"), "INVITE") && d.farTag == "":
			d.farTag = tagOf(header(m.text, "To"))
			d.farContact = uriOf(header(m.text, "Contact"))
			d.farSDP = bodyOf(m.text)
		}
	}
	if d.callID == "" || d.farTag == "" || d.contact == "" || !strings.Contains(d.farSDP, "m=audio") {
		t.Fatalf("no complete dialog in the trace (%+v):\n%s", d, readFile(t, path))
	}
	return d
}

// uriOf is the URI inside <...> of a name-addr (or the value up to ';' without them).
func uriOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	u, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(u)
}

func branch() string {
	var b [8]byte
	rand.Read(b[:])
	return "z9hG4bK-inj-" + hex.EncodeToString(b[:])
}

// forged is an in-dialog request as the far end would send it; the fields are what the
// test changes.
type forged struct {
	method, callID, fromTag, toTag string
	cseq                           int
	via                            string // the Via sent-by and params, e.g. "127.0.0.1:5999;rport"
	body                           string
	ackBody                        string // the SDP answer in the ACK of an offerless INVITE's 2xx
}

func (f forged) build(d dialogInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", f.method, d.contact)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s\r\n", f.via, branch())
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", d.farURI, f.fromTag)
	fmt.Fprintf(&b, "To: <%s>;tag=%s\r\n", d.localURI, f.toTag)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", f.callID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", f.cseq, f.method)
	if f.method == "INVITE" {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", d.farContact) // the far end's own: no target refresh
	}
	if f.body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(f.body), f.body)
	return b.String()
}

// transact sends req from conn to dst and returns the final response (1xx skipped), or
// fails the test after 4 s; it retransmits like Timer A on UDP.
func transact(t *testing.T, conn *net.UDPConn, dst netip.AddrPort, req string) string {
	t.Helper()
	deadline := time.Now().Add(4 * time.Second)
	buf := make([]byte, 65535)
	wantBranch := viaBranch(req)
	for rto := 500 * time.Millisecond; time.Now().Before(deadline); rto *= 2 {
		if _, err := conn.WriteToUDPAddrPort([]byte(req), dst); err != nil {
			t.Fatalf("send to %s: %v", dst, err)
		}
		until := time.Now().Add(rto)
		for time.Now().Before(until) {
			conn.SetReadDeadline(until)
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			res := string(buf[:n])
			if !strings.HasPrefix(res, "SIP/2.0 ") || viaBranch(res) != wantBranch {
				continue // a retransmission of an earlier answer
			}
			if code, _ := strconv.Atoi(res[8:11]); code >= 200 {
				return res
			}
		}
	}
	t.Fatalf("no final response to:\n%s", req)
	return ""
}

func viaBranch(msg string) string {
	if m := regexp.MustCompile(`branch=([^;\s,]+)`).FindStringSubmatch(header(msg, "Via")); m != nil {
		return m[1]
	}
	return ""
}

// ack acknowledges a final response to an INVITE sent by conn: for a non-2xx the ACK is part
// of the INVITE transaction (same branch), for a 2xx it is a new one.
func ack(t *testing.T, conn *net.UDPConn, dst netip.AddrPort, d dialogInfo, inv forged, res string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\n", d.contact)
	br := branch()
	if !strings.HasPrefix(res, "SIP/2.0 2") {
		br = viaBranch(res)
	}
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=%s\r\nMax-Forwards: 70\r\n", inv.via, br)
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", d.farURI, inv.fromTag)
	fmt.Fprintf(&b, "To: %s\r\n", header(res, "To"))
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d ACK\r\n", inv.callID, inv.cseq)
	body := ""
	if strings.HasPrefix(res, "SIP/2.0 2") {
		body = inv.ackBody
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := conn.WriteToUDPAddrPort([]byte(b.String()), dst); err != nil {
		t.Fatalf("ACK: %v", err)
	}
}

// rtpStream is a tone as RTP in codec c from SSRC ssrc.
type rtpStream struct {
	c    codec.G711
	hz   float64
	pkt  rtp.Packet
	i    int
	pcm  []int16
	wire []byte
}

func newRTPStream(c codec.G711, hz float64) *rtpStream {
	var b [10]byte
	rand.Read(b[:])
	s := &rtpStream{c: c, hz: hz, pcm: make([]int16, codec.FrameSamples), wire: make([]byte, 1500)}
	s.pkt.Header = rtp.Header{Version: 2, PayloadType: c.PayloadType(),
		SSRC:           uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]),
		SequenceNumber: uint16(b[4])<<8 | uint16(b[5]),
		Timestamp:      uint32(b[6])<<24 | uint32(b[7])<<16 | uint32(b[8])<<8 | uint32(b[9])}
	s.pkt.Payload = make([]byte, c.EncodedLen(codec.FrameSamples))
	return s
}

// next is the stream's next packet on the wire (valid until the next call).
func (s *rtpStream) next(t *testing.T) []byte {
	t.Helper()
	for k := range s.pcm {
		s.pcm[k] = int16(16000 * math.Sin(2*math.Pi*s.hz*float64(s.i*len(s.pcm)+k)/float64(s.c.ClockRate())))
	}
	s.pkt.Payload = s.pkt.Payload[:s.c.EncodeTo(s.pkt.Payload[:cap(s.pkt.Payload)], s.pcm)]
	n, err := s.pkt.MarshalTo(s.wire)
	if err != nil {
		t.Fatal(err)
	}
	s.pkt.SequenceNumber++
	s.pkt.Timestamp += uint32(len(s.pcm))
	s.i++
	return s.wire[:n]
}

// hostRaw is a raw IPv4 socket in the test's own namespace, used only towards 127.0.0.1: it
// forges the far end's RTP source address on loopback.
func hostRaw(t *testing.T) *rawUDP {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
	if err != nil {
		t.Skipf("no raw socket to forge a source address (needs CAP_NET_RAW): %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &rawUDP{fd: fd}
}

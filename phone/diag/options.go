package diag

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// probe is what one OPTIONS request found out.
type probe struct {
	Code     int
	Reason   string
	RTT      time.Duration
	Server   string         // the Server or User-Agent header
	Local    netip.AddrPort // our end of the socket
	Received netip.AddrPort // our address as the server saw it (Via received/rport), if it said
	TLS      *tls.ConnectionState
	Err      error
}

// UDP retransmissions as RFC 3261's timer A would start them, cut short: a doctor that waits
// 32 s per dead target is not one anybody waits for.
var udpWaits = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second}

const (
	dialTimeout   = 4 * time.Second
	streamTimeout = 5 * time.Second
	maxSIPMessage = 64 << 10
)

// optionsRequest is an OPTIONS to host (the name in the account, so that a server with
// several domains knows which one is meant) sent from local over transport.
func optionsRequest(in *Input, t Target, local netip.AddrPort, callID, branch string) []byte {
	ruri := "sip:" + hostPort(t.Host, int(t.Addr.Port()))
	aor := in.aorURI()
	ua := in.Config.UserAgent
	if ua == "" {
		ua = "dialtone"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "OPTIONS %s SIP/2.0\r\n", ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", strings.ToUpper(t.Transport.String()), local, branch)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", aor, sip.GenerateTagN(10))
	fmt.Fprintf(&b, "To: <%s>\r\n", aor)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	fmt.Fprintf(&b, "CSeq: 1 OPTIONS\r\n")
	fmt.Fprintf(&b, "Accept: application/sdp\r\n")
	fmt.Fprintf(&b, "User-Agent: %s (doctor)\r\n", ua)
	fmt.Fprintf(&b, "Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// optionsUDP sends OPTIONS over UDP with send and waits for the answer with recv (which must
// honour the deadline it is given). Datagrams that are not the answer are ignored.
func optionsUDP(ctx context.Context, in *Input, t Target, local netip.AddrPort, send func([]byte) error, recv func([]byte, time.Time) (int, error)) probe {
	callID, branch := sip.GenerateTagN(20)+"@doctor", sip.GenerateBranch()
	msg := optionsRequest(in, t, local, callID, branch)
	p := probe{Local: local}
	start := time.Now()
	buf := make([]byte, maxSIPMessage)
	for _, wait := range udpWaits {
		if err := send(msg); err != nil {
			p.Err = err
			return p
		}
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		for {
			if err := ctx.Err(); err != nil {
				p.Err = err
				return p
			}
			n, err := recv(buf, deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				p.Err = err
				return p
			}
			if res := parseAnswer(buf[:n], callID); res != nil {
				p.fill(res, time.Since(start))
				return p
			}
		}
	}
	p.Err = errNoAnswer
	return p
}

var errNoAnswer = errors.New("no answer")

// parseAnswer returns the final response with our Call-ID in b, nil for anything else
// (provisional responses, keep-alives, STUN, garbage).
func parseAnswer(b []byte, callID string) *sip.Response {
	if !bytes.HasPrefix(b, []byte("SIP/2.0 ")) {
		return nil
	}
	m, err := sip.ParseMessage(b)
	if err != nil {
		return nil
	}
	res, ok := m.(*sip.Response)
	if !ok || res.StatusCode < 200 {
		return nil
	}
	if id := res.CallID(); id == nil || id.Value() != callID {
		return nil
	}
	return res
}

func (p *probe) fill(res *sip.Response, rtt time.Duration) {
	p.Code, p.Reason, p.RTT = int(res.StatusCode), res.Reason, rtt
	for _, name := range []string{"Server", "User-Agent"} {
		if h := res.GetHeader(name); h != nil {
			p.Server = h.Value()
			break
		}
	}
	if via := res.Via(); via != nil {
		host, port := p.Local.Addr(), p.Local.Port()
		if v, ok := via.Params.Get("received"); ok {
			if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
				host = a.Unmap()
			}
		}
		if v, ok := via.Params.Get("rport"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
				port = uint16(n)
			}
		}
		if host.IsValid() {
			p.Received = netip.AddrPortFrom(host, port)
		}
	}
}

// probeUDP sends OPTIONS from a fresh connected socket: the kernel reports an ICMP "port
// unreachable" to a connected socket, so a closed port is told apart from a silent host.
func probeUDP(ctx context.Context, in *Input, t Target) probe {
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(t.Addr))
	if err != nil {
		return probe{Err: err}
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	return optionsUDP(ctx, in, t, local,
		func(b []byte) error { _, err := conn.Write(b); return err },
		func(b []byte, d time.Time) (int, error) {
			if err := conn.SetReadDeadline(d); err != nil {
				return 0, err
			}
			return conn.Read(b)
		})
}

// probeStream sends OPTIONS over a new TCP or TLS connection. Over TLS the handshake accepts
// any certificate: the chain is judged on its own (checkTLS), and the OPTIONS carries no
// secret, so that an untrusted certificate still shows whether a SIP server is behind it.
func probeStream(ctx context.Context, in *Input, t Target) probe {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout+streamTimeout)
	defer cancel()
	var d net.Dialer
	dctx, dcancel := context.WithTimeout(ctx, dialTimeout)
	raw, err := d.DialContext(dctx, "tcp", t.Addr.String())
	dcancel()
	if err != nil {
		return probe{Err: err}
	}
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Now()) })
	defer stop()
	local := raw.LocalAddr().(*net.TCPAddr).AddrPort()
	p := probe{Local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port())}
	var conn net.Conn = raw
	start := time.Now()
	if t.Transport.String() == "tls" {
		tc := tls.Client(raw, &tls.Config{ServerName: sniName(t.Host), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			p.Err = fmt.Errorf("TLS handshake: %w", err)
			return p
		}
		st := tc.ConnectionState()
		p.TLS = &st
		conn = tc
	}
	callID := sip.GenerateTagN(20) + "@doctor"
	if err := conn.SetDeadline(time.Now().Add(streamTimeout)); err != nil {
		p.Err = err
		return p
	}
	if _, err := conn.Write(optionsRequest(in, t, p.Local, callID, sip.GenerateBranch())); err != nil {
		p.Err = err
		return p
	}
	for range 20 { // bounded: provisional answers and keep-alives before the final one
		msg, err := readStreamMessage(conn)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = errNoAnswer
			}
			p.Err = err
			return p
		}
		if res := parseAnswer(msg, callID); res != nil {
			p.fill(res, time.Since(start))
			return p
		}
	}
	p.Err = errNoAnswer
	return p
}

// sniName is the TLS server name for host: none for an IP address (RFC 6066 forbids it).
func sniName(host string) string {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return ""
	}
	return host
}

// readStreamMessage reads one SIP message from a stream (RFC 3261 18.3: headers up to the
// empty line, then Content-Length bytes), skipping CRLF keep-alives before it.
func readStreamMessage(r io.Reader) ([]byte, error) {
	var buf []byte
	one := make([]byte, 1)
	for len(buf) < maxSIPMessage {
		if _, err := io.ReadFull(r, one); err != nil {
			return nil, err
		}
		if len(buf) == 0 && (one[0] == '\r' || one[0] == '\n') {
			continue
		}
		buf = append(buf, one[0])
		if !bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			continue
		}
		n := contentLength(buf)
		if n < 0 || n > maxSIPMessage {
			return nil, errors.New("bad Content-Length")
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return append(buf, body...), nil
	}
	return nil, errors.New("SIP message too large")
}

func contentLength(head []byte) int {
	for _, line := range strings.Split(string(head), "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if k = strings.TrimSpace(strings.ToLower(k)); k == "content-length" || k == "l" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return -1
			}
			return n
		}
	}
	return 0
}

// probeError says in words why no answer came.
func probeError(err error, t Target) (what string, refused bool) {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens on " + t.Addr.String() + " over " + t.Transport.String() + ")", true
	case errors.Is(err, errNoAnswer), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "no answer (timeout)", false
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to " + t.Addr.Addr().String(), false
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name, false
	case strings.Contains(err.Error(), "TLS handshake"):
		return err.Error(), false
	}
	return err.Error(), false
}

// Package nat finds out how the network sees us: STUN (RFC 5389) binding requests from a
// socket give its public (server-reflexive) address, and two mappings of one socket towards
// different servers tell a NAT that keeps its mapping per socket (cone-like) from one that
// makes a new mapping per destination (symmetric). It knows nothing about SIP.
package nat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v3"
)

// DefaultSTUNPort is the STUN port (RFC 5389 section 9) used when a server names none.
const DefaultSTUNPort = 3478

// Retransmission schedule: RFC 5389 section 7.2.1 starts at 500 ms and doubles. A phone that
// waits 39.5 s for a dead STUN server before placing a call is worse than one that places it
// with the address it has, so the schedule is cut to four sends over ~3.5 s.
var retransmits = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

const lastWait = 1500 * time.Millisecond

// ErrNoAnswer means the STUN server sent no valid answer in time.
var ErrNoAnswer = errors.New("stun: no answer")

// Binding sends a Binding request from conn to server and returns the mapped (public) address
// the server saw. conn must not be read by anyone else meanwhile: datagrams that are not the
// answer (RTP, garbage, answers from other addresses or with another transaction id, which a
// spoofer would send) are read and ignored. The read deadline of conn is cleared on return.
func Binding(ctx context.Context, conn net.PacketConn, server netip.AddrPort) (netip.AddrPort, error) {
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: build request: %w", err)
	}
	// A cancelled ctx wakes the read at once rather than at its deadline (up to 1.5 s). The
	// deadline is cleared last, once a wake-up that already started has set its own: left
	// behind, it would fail every later read on conn (the SIP or an RTP socket).
	woke := make(chan struct{})
	stopWake := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()); close(woke) })
	defer func() {
		if !stopWake() {
			<-woke
		}
		conn.SetReadDeadline(time.Time{})
	}()
	dst := net.UDPAddrFromAddrPort(server)
	buf := make([]byte, 1500)
	waits := append(append([]time.Duration(nil), retransmits...), lastWait)
	for _, wait := range waits {
		if err := ctx.Err(); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun %s: %w", server, err)
		}
		if _, err := conn.WriteTo(req.Raw, dst); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: send to %s: %w", server, err)
		}
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		for {
			if err := ctx.Err(); err != nil {
				return netip.AddrPort{}, fmt.Errorf("stun %s: %w", server, err)
			}
			if err := conn.SetReadDeadline(deadline); err != nil {
				return netip.AddrPort{}, fmt.Errorf("stun: %w", err)
			}
			if err := ctx.Err(); err != nil { // cancelled before the deadline was set: no wake-up comes
				return netip.AddrPort{}, fmt.Errorf("stun %s: %w", server, err)
			}
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
					break // retransmit, or the ctx check above ends it
				}
				return netip.AddrPort{}, fmt.Errorf("stun: read: %w", err)
			}
			if !sameAddr(from, server) {
				continue
			}
			mapped, err := ParseBindingResponse(buf[:n], req.TransactionID)
			var refused *ErrorResponse
			if errors.As(err, &refused) {
				// The server's answer, and final (RFC 8489 7.3.4): waiting out the schedule
				// would delay the call by seconds and then call it "no answer".
				return netip.AddrPort{}, fmt.Errorf("stun %s: %w", server, err)
			}
			if err != nil {
				continue // not ours, or malformed: keep waiting for the real answer
			}
			return mapped, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("stun %s: %w after %d requests", server, ErrNoAnswer, len(waits))
}

// ErrorResponse is a Binding error response to our request: the server refused it.
type ErrorResponse struct {
	Code   int
	Reason string
}

func (e *ErrorResponse) Error() string { return fmt.Sprintf("stun: error %d %s", e.Code, e.Reason) }

// ParseBindingResponse checks that b is a success response to the request with transaction id
// tid and returns its XOR-MAPPED-ADDRESS (or the RFC 3489 MAPPED-ADDRESS of old servers). An
// error response to that request is an *ErrorResponse.
func ParseBindingResponse(b []byte, tid [stun.TransactionIDSize]byte) (netip.AddrPort, error) {
	if !stun.IsMessage(b) {
		return netip.AddrPort{}, errors.New("stun: not a STUN message")
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: %w", err)
	}
	if m.TransactionID != tid {
		return netip.AddrPort{}, errors.New("stun: transaction id mismatch")
	}
	if m.Type != stun.BindingSuccess {
		var code stun.ErrorCodeAttribute
		if m.Type == stun.BindingError && code.GetFrom(m) == nil {
			return netip.AddrPort{}, &ErrorResponse{Code: int(code.Code), Reason: string(code.Reason)}
		}
		return netip.AddrPort{}, fmt.Errorf("stun: unexpected %s", m.Type)
	}
	if m.Contains(stun.AttrFingerprint) {
		if err := stun.Fingerprint.Check(m); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: %w", err)
		}
	}
	var xor stun.XORMappedAddress
	if err := xor.GetFrom(m); err == nil {
		return toAddrPort(xor.IP, xor.Port)
	}
	var plain stun.MappedAddress
	if err := plain.GetFrom(m); err == nil {
		return toAddrPort(plain.IP, plain.Port)
	}
	return netip.AddrPort{}, errors.New("stun: answer has no mapped address")
}

func toAddrPort(ip net.IP, port int) (netip.AddrPort, error) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port <= 0 || port > 65535 || a.IsUnspecified() {
		return netip.AddrPort{}, fmt.Errorf("stun: bad mapped address %v:%d", ip, port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
}

func sameAddr(a net.Addr, b netip.AddrPort) bool {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return false
	}
	ap := u.AddrPort()
	return ap.Addr().Unmap() == b.Addr().Unmap() && ap.Port() == b.Port()
}

// Indication is a STUN Binding indication (RFC 5389 section 10.1.1): it asks for no answer,
// and peers that demultiplex STUN from RTP (RFC 7983) drop it. Sent from an RTP socket while
// no media flows, it keeps the NAT's mapping open.
func Indication() []byte {
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodBinding, stun.ClassIndication), stun.Fingerprint)
	if err != nil {
		return nil // cannot happen: the setters above have no failure path for fresh messages
	}
	return m.Raw
}

// IsSTUN reports whether a datagram on a media socket is STUN rather than RTP or RTCP: RFC
// 7983 section 7 gives STUN the first-byte range 0-3 and requires the magic cookie.
func IsSTUN(b []byte) bool { return len(b) >= 20 && b[0] < 4 && stun.IsMessage(b) }

// ResolveServer turns "host[:port]" into a UDP address of the family network names: IPv4
// for "udp4", IPv6 for "udp6", to match the socket that will use it. An address written out
// in the other family is an error that says so (sending to it from that socket would fail
// with the kernel's less helpful "address family not supported").
func ResolveServer(ctx context.Context, server, network string) (netip.AddrPort, error) {
	host, port, err := SplitServer(server)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		switch {
		case network == "udp4" && ip.Is6():
			return netip.AddrPort{}, fmt.Errorf("stun server %s: an IPv6 address, for an IPv4 socket", server)
		case network == "udp6" && ip.Is4():
			return netip.AddrPort{}, fmt.Errorf("stun server %s: an IPv4 address, for an IPv6 socket", server)
		}
		return netip.AddrPortFrom(ip, port), nil
	}
	family := "ip4"
	if network == "udp6" {
		family = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, family, host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("stun server %s: %w", server, errors.Join(err, errors.New("no address")))
	}
	return netip.AddrPortFrom(ips[0].Unmap(), port), nil
}

// SplitServer parses "host", "host:port", "[v6]" or "[v6]:port".
func SplitServer(server string) (string, uint16, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return "", 0, errors.New("stun server: empty")
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 || h == "" {
			return "", 0, fmt.Errorf("stun server %q: bad port", server)
		}
		return h, uint16(n), nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.ContainsAny(s, "[]/ ") {
		return "", 0, fmt.Errorf("stun server %q: not host[:port]", server)
	}
	return s, DefaultSTUNPort, nil
}

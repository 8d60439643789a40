package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/dialtone/dialtone/phone/nat"
	"github.com/pion/stun/v3"
)

// stunWaits is the Binding retransmission schedule (RFC 5389 7.2.1, cut short like phone/nat's).
var stunWaits = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

// binding sends a STUN Binding request from conn to server and returns the mapped address
// and, from an RFC 5780 server, its OTHER-ADDRESS. Other datagrams (late SIP answers, spoofed
// or foreign STUN) are ignored.
func binding(ctx context.Context, conn net.PacketConn, server netip.AddrPort) (mapped, other netip.AddrPort, err error) {
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return mapped, other, fmt.Errorf("stun: %w", err)
	}
	defer conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 1500)
	for _, wait := range stunWaits {
		if _, err := conn.WriteTo(req.Raw, net.UDPAddrFromAddrPort(server)); err != nil {
			return mapped, other, fmt.Errorf("stun %s: %w", server, err)
		}
		deadline := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			return mapped, other, err
		}
		for {
			n, from, err := conn.ReadFrom(buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return mapped, other, fmt.Errorf("stun %s: %w", server, err)
			}
			u, ok := from.(*net.UDPAddr)
			if !ok || u.AddrPort().Addr().Unmap() != server.Addr().Unmap() || u.AddrPort().Port() != server.Port() {
				continue
			}
			mapped, err = nat.ParseBindingResponse(buf[:n], req.TransactionID)
			var refused *nat.ErrorResponse
			if errors.As(err, &refused) {
				return mapped, other, fmt.Errorf("stun %s: %w", server, err) // final: no retransmission helps
			}
			if err != nil {
				continue
			}
			m := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			var oa stun.OtherAddress
			if m.Decode() == nil && oa.GetFrom(m) == nil {
				if a, ok := netip.AddrFromSlice(oa.IP); ok && oa.Port > 0 && oa.Port < 65536 && !a.IsUnspecified() {
					other = netip.AddrPortFrom(a.Unmap(), uint16(oa.Port))
				}
			}
			return mapped, other, nil
		}
		if ctx.Err() != nil {
			return mapped, other, ctx.Err()
		}
	}
	return mapped, other, fmt.Errorf("stun %s: %w", server, nat.ErrNoAnswer)
}

// natFacts are the observations of one UDP socket's public address.
type natFacts struct {
	local      netip.AddrPort
	stun       netip.AddrPort // mapped by the STUN server
	other      netip.AddrPort // the STUN server's OTHER-ADDRESS (RFC 5780)
	stunOther  netip.AddrPort // mapped by the other address
	registrar  netip.AddrPort // Via received/rport of an OPTIONS to the registrar over UDP
	registrarT netip.AddrPort // where that OPTIONS went
}

// verdictNAT turns observations into a kind and a plain-words verdict.
func verdictNAT(f natFacts, stunServer, turnServer string) (kind nat.Kind, status Status, verdict, fix string) {
	second := f.stunOther
	if !second.IsValid() {
		second = f.registrar // another destination all the same (another port at least)
	}
	first := f.stun
	if !first.IsValid() {
		first, second = f.registrar, netip.AddrPort{}
	}
	kind = nat.Classify(f.local, first, second)
	if kind == nat.Unknown && first.IsValid() && first == f.local {
		kind = nat.Open
	}
	switch kind {
	case nat.Open:
		return kind, OK, "no NAT: the servers see your own address " + f.local.String(), ""
	case nat.Cone:
		return kind, OK, fmt.Sprintf("a cone NAT (endpoint-independent mapping): your public address %s is the same towards every server, so the far end's audio can reach you", first), ""
	case nat.Symmetric:
		v := fmt.Sprintf("a symmetric NAT: each server sees another public address (%s and %s), so the address dialtone puts in the SDP is not where the far end's audio would arrive", first, second)
		if turnServer != "" {
			return kind, OK, v + "; calls use the TURN relay " + turnServer + " for media", ""
		}
		return kind, Warn, v + "; without a media relay, one-way audio is likely (the provider may run one: then calls work)",
			"set turn_server, turn_user and a turn_password_* (a TURN relay such as coturn), or use a provider that relays media"
	}
	if !first.IsValid() {
		if stunServer == "" {
			return kind, Warn, "the NAT could not be checked: no stun_server is configured and the registrar did not say where it sees you",
				"set stun_server = \"HOST[:PORT]\" (in [sip] or the account, or --stun-server)"
		}
		return kind, Warn, "the STUN server " + stunServer + " did not answer and the registrar did not say where it sees you",
			"check stun_server (host, port 3478/udp, firewall)"
	}
	fixes := "set stun_server to a server with two addresses (RFC 5780, e.g. coturn with two listening IPs) to tell cone from symmetric"
	if stunServer == "" {
		fixes = "set stun_server = \"HOST[:PORT]\" (in [sip] or the account, or --stun-server) so dialtone can learn its public media address"
	}
	return kind, Warn, fmt.Sprintf("behind NAT (public address %s), but only one server saw this socket, so cone and symmetric cannot be told apart", first), fixes
}

// checkNAT maps one UDP socket with STUN (and the STUN server's other address) and with an
// OPTIONS to the registrar, all from the same socket, and compares what each server saw.
func checkNAT(ctx context.Context, in *Input, reg *Target) (*Check, nat.Kind) {
	c := &Check{Name: "nat", Title: "NAT (STUN mapping of one UDP socket)"}
	var stunAddr netip.AddrPort
	var stunErr error
	if in.STUNServer != "" {
		c.add("stun_server", in.STUNServer)
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		stunAddr, stunErr = nat.ResolveServer(rctx, in.STUNServer, "udp4")
		cancel()
		if stunErr != nil {
			stunAddr, stunErr = func() (netip.AddrPort, error) {
				r6, c6 := context.WithTimeout(ctx, 5*time.Second)
				defer c6()
				return nat.ResolveServer(r6, in.STUNServer, "udp6")
			}()
		}
		if stunErr != nil {
			c.add("stun_error", stunErr.Error())
		}
	}
	dst := stunAddr
	if !dst.IsValid() && reg != nil {
		dst = reg.Addr
	}
	if !dst.IsValid() {
		c.skip("no STUN server configured and no UDP address of the registrar to ask")
		c.Fix = "set stun_server = \"HOST[:PORT]\" (in [sip] or the account, or --stun-server)"
		return c, nat.Unknown
	}
	conn, local, err := routedSocket(dst)
	if err != nil {
		c.add("error", err.Error())
		c.fail(0, "no UDP socket could reach "+dst.String()+": "+err.Error(), "check the network connection and routes")
		return c, nat.Unknown
	}
	defer conn.Close()
	f := natFacts{local: local}
	c.add("local", local.String())
	if stunAddr.IsValid() && stunErr == nil {
		f.stun, f.other, stunErr = binding(ctx, conn, stunAddr)
		if stunErr != nil {
			c.add("stun_error", stunErr.Error())
		} else {
			c.add("mapped", f.stun.String())
			if f.other.IsValid() {
				c.add("other_address", f.other.String())
				// RFC 5780 4.3 test II: the other IP at the primary port; test III's full
				// other address when that one does not answer.
				for _, try := range []netip.AddrPort{netip.AddrPortFrom(f.other.Addr(), stunAddr.Port()), f.other} {
					if m, _, err := binding(ctx, conn, try); err == nil {
						f.stunOther = m
						c.add("mapped_via_other", m.String()+" (asked at "+try.String()+")")
						break
					}
				}
				if !f.stunOther.IsValid() {
					c.add("mapped_via_other", "no answer")
				}
			} else {
				c.add("other_address", "(none: the server does not do RFC 5780)")
			}
		}
	}
	if reg != nil && reg.Addr.Addr().Is4() == local.Addr().Is4() {
		p := optionsUDP(ctx, in, *reg, local,
			func(b []byte) error { _, err := conn.WriteTo(b, net.UDPAddrFromAddrPort(reg.Addr)); return err },
			func(b []byte, d time.Time) (int, error) {
				if err := conn.SetReadDeadline(d); err != nil {
					return 0, err
				}
				n, _, err := conn.ReadFrom(b)
				return n, err
			})
		_ = conn.SetReadDeadline(time.Time{})
		if p.Err == nil && p.Received.IsValid() {
			f.registrar, f.registrarT = p.Received, reg.Addr
			c.add("registrar_sees", p.Received.String()+" (Via received/rport from "+reg.Addr.String()+")")
		}
	}
	kind, status, verdict, fix := verdictNAT(f, in.STUNServer, in.turnAddr())
	c.add("kind", kind.String())
	c.Status = status
	if status == OK {
		c.Note = verdict
	} else {
		c.Verdict, c.Fix = verdict, fix
	}
	return c, kind
}

// routedSocket opens a UDP socket on the local address the kernel routes to dst from, so that
// "local" is the real source address and not 0.0.0.0.
func routedSocket(dst netip.AddrPort) (net.PacketConn, netip.AddrPort, error) {
	probe, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	ip := probe.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	probe.Close()
	network := "udp4"
	if ip.Is6() {
		network = "udp6"
	}
	conn, err := net.ListenPacket(network, netip.AddrPortFrom(ip, 0).String())
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return conn, netip.AddrPortFrom(local.Addr().Unmap(), local.Port()), nil
}

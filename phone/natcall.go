package phone

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/nat"
)

// stunTimeout bounds the STUN look-ups of one call's set-up: a dead STUN server delays the
// call by this much at most, and the call then goes on with the best address it has.
const stunTimeout = 2500 * time.Millisecond

// mediaAddr is what our SDP advertises for one call's media, and how we learnt it.
type mediaAddr struct {
	IP        string // for c= and o=
	RTP, RTCP int    // m= port, and a=rtcp when RTCP is not RTP+1
	Local     netip.AddrPort
	Source    string   // "local", "registrar" (Via received/rport), "stun" or "turn"
	Kind      nat.Kind // what the observations say about our NAT
}

// behindNAT reports whether the network sees us at another address than our socket's.
func (m mediaAddr) behindNAT() bool { return m.Source != "local" }

// stunServerFor is the STUN server an account uses: its own, else the phone's.
func (p *Phone) stunServerFor(acc *account) string {
	if acc != nil && acc.STUNServer != "" {
		return acc.STUNServer
	}
	return p.cfg.STUNServer
}

// publicMedia decides the address our SDP gives for ms. The local address is what a peer on
// our own network needs; behind NAT it is useless to everyone else, and the far end's audio
// would never arrive (one-way audio, the commonest softphone complaint). In order:
//  1. a STUN server's view of the RTP and RTCP sockets themselves (exact, also the ports);
//  2. the public IP the registrar saw our SIP socket at (Via received, RFC 3581) with our own
//     ports, which is right for the many NATs that keep the source port;
//  3. the SIP socket's public address from STUN at start-up (calls without a registration);
//  4. the local address.
func (p *Phone) publicMedia(ctx context.Context, stk *stack, acc *account, localIP string, ms *media.Session) mediaAddr {
	local := ms.LocalAddr()
	m := mediaAddr{IP: localIP, RTP: int(local.Port()), Local: netip.AddrPortFrom(parseIP(localIP), local.Port()), Source: "local"}
	regHost, regPort := "", 0
	if acc != nil {
		regHost, regPort = p.wire(acc.Name).publicAddr()
	}
	var stunMapped, stunAddr netip.AddrPort
	family := "udp4"
	if m.Local.Addr().Is6() {
		family = "udp6"
	}
	if server := p.stunServerFor(acc); server != "" {
		sctx, cancel := context.WithTimeout(ctx, stunTimeout)
		addr, err := nat.ResolveServer(sctx, server, family)
		if err == nil {
			stunAddr = addr
			var rtp, rtcp netip.AddrPort
			if rtp, rtcp, err = ms.Discover(sctx, addr); err == nil {
				stunMapped = rtp
			}
			if err == nil && rtp.Addr() != m.Local.Addr() {
				m.IP, m.RTP, m.Source = rtp.Addr().String(), int(rtp.Port()), "stun"
				if rtcp.IsValid() {
					m.RTCP = int(rtcp.Port())
				}
			}
		}
		cancel()
		if err != nil {
			p.log.Warn("STUN failed; the SDP carries the best address known without it", "server", server, "err", err)
		}
	}
	// What the SIP socket's address was seen as stands for the media socket's only in the same
	// family: a call over IPv6 from a host whose IPv4 is NATed must not advertise the IPv4
	// NAT's address (the far end's audio would go where nobody listens).
	regIP, sipSTUN := parseIP(regHost), stk.sipSTUN
	if !sameFamily(regIP, m.Local.Addr()) {
		regHost, regPort = "", 0
	}
	if !sameFamily(sipSTUN.Addr(), m.Local.Addr()) {
		sipSTUN = netip.AddrPort{}
	}
	if m.Source == "local" && regHost != "" && regHost != localIP {
		m.IP, m.Source = regHost, "registrar"
	}
	if m.Source == "local" && sipSTUN.IsValid() && sipSTUN.Addr() != m.Local.Addr() {
		m.IP, m.Source = sipSTUN.Addr().String(), "stun"
	}
	// The SIP socket seen by two destinations (the STUN server and the registrar) tells a NAT
	// that keeps one mapping per socket from one that makes a new one per destination.
	if sipSTUN.IsValid() && regHost != "" && regPort != 0 { // a UDP mapping to compare with
		m.Kind = nat.Classify(netip.AddrPortFrom(parseIP(localIP), uint16(stk.udpAddr.Port)), sipSTUN,
			netip.AddrPortFrom(regIP, uint16(regPort)))
	}
	if relay := p.turnFor(acc); relay != nil {
		m = p.maybeRelay(ctx, relay, ms, m, stunAddr, stunMapped, family)
	}
	if m.behindNAT() {
		p.log.Info("behind NAT: advertising the public media address", "local", m.Local.String(),
			"public", net.JoinHostPort(m.IP, strconv.Itoa(m.RTP)), "from", m.Source, "nat", m.Kind.String())
	}
	return m
}

// sameFamily reports whether a and b are both IPv4 or both IPv6.
func sameFamily(a, b netip.Addr) bool {
	return a.IsValid() && b.IsValid() && a.Unmap().Is4() == b.Unmap().Is4()
}

func parseIP(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// discoverSIPAddress asks the phone's STUN server how the network sees the SIP UDP socket. It
// runs before the SIP stack reads the socket; failure only costs the information.
func (p *Phone) discoverSIPAddress(ctx context.Context, conn net.PacketConn) netip.AddrPort {
	server := p.cfg.STUNServer
	for _, a := range p.accountList() {
		if server == "" && a.STUNServer != "" {
			server = a.STUNServer
		}
	}
	if server == "" {
		return netip.AddrPort{}
	}
	sctx, cancel := context.WithTimeout(ctx, stunTimeout)
	defer cancel()
	addr, err := nat.ResolveServer(sctx, server, "udp4")
	if err == nil {
		var mapped netip.AddrPort
		if mapped, err = nat.Binding(sctx, conn, addr); err == nil {
			p.log.Info("STUN: the SIP socket's public address", "local", conn.LocalAddr().String(), "public", mapped.String(), "server", server)
			return mapped
		}
	}
	p.log.Warn("STUN on the SIP socket failed", "server", server, "err", err)
	return netip.AddrPort{}
}

// publicAddr is our address as the registrar saw it, when it differs from our socket's (""
// before a registration has shown a NAT). Over TCP/TLS only the IP means anything for media:
// the port is the connection's, so it is 0. What the last REGISTER learnt: a call does not wait
// for one in progress (sipRegistrar.view).
func (r *sipRegistrar) publicAddr() (string, int) {
	if r == nil {
		return "", 0 // not started yet (errAccountStarting): nothing learnt
	}
	v := r.view.Load()
	if v == nil {
		return "", 0
	}
	if r.acc.Transport != UDP {
		return v.streamHost, 0
	}
	return v.natHost, v.natPort
}

// turnFor is the TURN relay an account uses: its own, else the phone's, else none.
func (p *Phone) turnFor(acc *account) *TURNServer {
	if acc != nil && acc.TURN != nil {
		return acc.TURN
	}
	return p.cfg.TURN
}

// maybeRelay moves the call's media onto a TURN relay when the network needs one. The RTP
// socket's mapping seen by the TURN server is compared with the STUN server's: the same
// mapping means a cone NAT, and the STUN address already works for everyone, so the relay (a
// detour, and the provider's bandwidth) is not used; different mappings mean a symmetric NAT,
// which only a relay gets through. A STUN server at the TURN server's own address (the usual
// setup: one coturn for both, on one port or two) is one destination, not two: even a symmetric NAT reuses the
// mapping of a flow it already has, so there the SIP socket's mappings (STUN at start-up and
// the registrar's received/rport) decide. With nothing to compare with, any NAT at all is
// taken for the worse case. A relay that fails leaves the call with the address it had.
func (p *Phone) maybeRelay(ctx context.Context, relay *TURNServer, ms *media.Session, m mediaAddr, stunAddr, stunMapped netip.AddrPort, family string) mediaAddr {
	sctx, cancel := context.WithTimeout(ctx, 2*stunTimeout)
	defer cancel()
	server, err := nat.ResolveServer(sctx, relay.Addr, family)
	if err != nil {
		p.log.Warn("TURN server not found; media goes direct", "server", relay.Addr, "err", err)
		return m
	}
	viaTURN, _, err := ms.Discover(sctx, server)
	if err != nil {
		p.log.Warn("TURN server does not answer STUN; media goes direct", "server", relay.Addr, "err", err)
		return m
	}
	kind := relayKind(m.Local, stunAddr, stunMapped, server, viaTURN, m.Kind)
	m.Kind = kind
	if kind == nat.Open || kind == nat.Cone {
		p.log.Info("TURN not needed: the NAT keeps one mapping for every destination", "nat", kind.String(), "public", viaTURN.String())
		return m
	}
	password := ""
	if relay.Password != nil {
		if password, err = relay.Password(sctx); err != nil {
			p.log.Warn("TURN password", "server", relay.Addr, "err", err)
			return m
		}
	}
	rtp, rtcp, err := ms.UseRelay(sctx, media.Relay{Server: server, User: relay.User, Password: password})
	if err != nil {
		p.log.Warn("TURN allocation failed; media goes direct", "server", relay.Addr, "err", err)
		return m
	}
	m.IP, m.RTP, m.RTCP, m.Source = rtp.Addr().String(), int(rtp.Port()), int(rtcp.Port()), "turn"
	return m
}

// relayKind is what maybeRelay believes of the NAT in front of the RTP socket local, which
// the STUN server stunAddr saw as stunMapped (invalid without one) and the TURN server
// turnAddr as viaTURN; sipKind is the SIP socket's NAT kind, from its STUN mapping and the
// registrar's received/rport. Only Open and Cone leave the relay unused.
func relayKind(local, stunAddr, stunMapped, turnAddr, viaTURN netip.AddrPort, sipKind nat.Kind) nat.Kind {
	switch {
	// Two destinations only at two addresses: a NAT whose mapping depends on the destination's
	// address but not its port (RFC 4787 "address-dependent") gives STUN on 3478 and TURN on
	// 443 of one host the same mapping, and a far end elsewhere another.
	case stunMapped.IsValid() && stunAddr.Addr() != turnAddr.Addr():
		return nat.Classify(local, stunMapped, viaTURN) // two destinations, one socket
	case viaTURN == local:
		return nat.Open
	case sipKind == nat.Cone || sipKind == nat.Symmetric:
		return sipKind // one destination only: the SIP socket seen by two tells the NAT's kind
	}
	return nat.Symmetric // behind NAT, and nothing to compare with: assume the worst
}

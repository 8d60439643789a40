package phone

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo/sip"
)

// updateContactWithin is updateContact bounded by the per-target timeout: over TCP and TLS
// it connects, and a connection to a blackholed server would otherwise hang for the
// kernel's SYN retries (minutes) before the next target got its turn.
func (r *sipRegistrar) updateContactWithin(ctx context.Context, target string) error {
	if r.attemptTimeout <= 0 || r.acc.Transport == UDP {
		return r.updateContact(ctx, target)
	}
	cctx, cancel := context.WithTimeout(ctx, r.attemptTimeout)
	defer cancel()
	err := r.updateContact(cctx, target)
	if err != nil && ctx.Err() == nil && cctx.Err() != nil {
		return transportError(r.op(), target, r.acc.Transport, cctx.Err())
	}
	return err
}

// callContact returns the Contact and first hop for a call through this account: the
// registration's binding when there is one, else one made the same way.
func (r *sipRegistrar) callContact(ctx context.Context) (sip.Uri, string, error) {
	c, ts, err := r.callTargets(ctx)
	if err != nil {
		return sip.Uri{}, "", err
	}
	return c, ts[0].Addr.String(), nil
}

// callTargets returns the Contact for a call or a message through this account and the
// targets to send it to, in order: where the registration succeeded first, then the rest
// of the RFC 3263 list. Over TCP and TLS the Contact is made on the first target that
// accepts a connection (a refusing one is skipped).
func (r *sipRegistrar) callTargets(ctx context.Context) (sip.Uri, []resolve.Target, error) {
	if r == nil {
		return sip.Uri{}, nil, errAccountStarting
	}
	server := r.serverURI()
	op := "call via " + server.String()
	targets, err := r.lookUp(ctx, server) // no lock: DNS may be slow
	if err != nil {
		return sip.Uri{}, nil, transportError(op, server.Host, r.acc.Transport, err)
	}
	targets = r.usable(targets)
	if v := r.view.Load(); v != nil && (v.routeOK || r.streamBindingUp(v)) {
		// The binding a REGISTER settled (UDP with our public address known, or TCP/TLS on
		// the connection it was made on): a call goes out with it at once, even while a
		// refresh is waiting for its registrar.
		return v.contact, firstAt(targets, v.current), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.publishView()
	targets = firstAt(targets, r.current)
	r.learnAddressByOptions(ctx, targets[0].Addr.String())
	if r.contact.Host != "" && r.acc.Transport == UDP {
		return r.contact, targets, nil
	}
	var tried []attempt
	r.attemptTimeout = timeoutFor(len(targets))
	for i, t := range targets {
		err := r.updateContactWithin(ctx, t.Addr.String())
		if err == nil {
			return r.contact, targets[i:], nil
		}
		if ctx.Err() != nil || !failsOver(err) {
			return sip.Uri{}, nil, err
		}
		tried = append(tried, attempt{t, err})
	}
	return sip.Uri{}, nil, failoverError(op, tried)
}

// regView is what a call needs of the registration, read without mu (sipRegistrar.view).
type regView struct {
	// routeOK: contact and current need nothing more learnt (UDP, and a server has told us
	// where it sees us). Over TCP and TLS a call's Contact is the connection it leaves on,
	// which only callTargets' slow path can make.
	routeOK bool
	contact sip.Uri
	current string // the target that took the binding ("" when the last REGISTER failed)
	// natHost, natPort, streamHost: our public address as the registrar saw it (publicAddr).
	natHost    string
	natPort    int
	streamHost string
}

// streamBindingUp reports whether v's binding over TCP or TLS still names a live connection:
// the one to the target that took it, from the address the Contact gives. A call through it
// needs no new Contact (callTargets' slow path, which waits for a REGISTER in progress).
func (r *sipRegistrar) streamBindingUp(v *regView) bool {
	if r.acc.Transport == UDP || r.tp == nil || v.contact.Host == "" || v.current == "" {
		return false
	}
	conn, err := r.tp.GetConnection(r.acc.Transport.String(), v.current)
	if err != nil || conn == nil {
		return false
	}
	// GetConnection took a reference: give it back without TryClose, which closes the
	// connection when the count reaches 0, and sipgo's count for a connection it made itself
	// can be 0 here (it logs "ref went negative" on its own).
	defer conn.Ref(-1)
	return conn.LocalAddr().String() == net.JoinHostPort(strings.Trim(v.contact.Host, "[]"), strconv.Itoa(v.contact.Port))
}

// publishView publishes what calls read of the registration without mu. Called with mu held,
// when a REGISTER or callTargets' slow path ends.
func (r *sipRegistrar) publishView() {
	r.view.Store(&regView{
		routeOK: r.acc.Transport == UDP && r.viaKnown && r.contact.Host != "",
		contact: r.contact, current: r.current,
		natHost: r.natHost, natPort: r.natPort, streamHost: r.streamHost,
	})
}

// usable drops the targets our UDP socket cannot send to (an IPv6 address from the IPv4
// socket, or the reverse) and those that are our own SIP socket (DNS that names this machine,
// or a dead server's port that the system gave us since), unless that leaves none: trying
// them would only add "cannot reach" lines to the error, or send our requests to ourselves.
func (r *sipRegistrar) usable(ts []resolve.Target) []resolve.Target {
	if r.acc.Transport != UDP || r.udpListen == nil {
		return ts
	}
	v4 := r.udpListen.IP.To4() != nil
	var out []resolve.Target
	for _, t := range ts {
		if r.udp6Listen == nil && t.Addr.Addr().Unmap().Is4() != v4 {
			continue
		}
		if r.isOwnSocket(t.Addr) {
			r.log.Info("a target is our own SIP socket: skipped", "target", t.String())
			continue
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return ts
	}
	return out
}

// isOwnSocket reports whether a is one of our UDP SIP sockets: its port, at our address or on
// this machine's loopback (a socket on all interfaces is reachable there too).
func (r *sipRegistrar) isOwnSocket(a netip.AddrPort) bool {
	for _, l := range []*net.UDPAddr{r.udpListen, r.udp6Listen} {
		if l == nil || int(a.Port()) != l.Port {
			continue
		}
		ip := a.Addr().Unmap()
		if ip.IsLoopback() || l.IP.Equal(net.IP(ip.AsSlice())) {
			return true
		}
	}
	return false
}

// listenFor is the UDP socket requests to target (ip:port) leave from: the IPv6 one for an
// IPv6 target when there is one.
func (r *sipRegistrar) listenFor(target string) *net.UDPAddr {
	if r.udp6Listen != nil && isIPv6Target(target) {
		return r.udp6Listen
	}
	return r.udpListen
}

func isIPv6Target(target string) bool {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Is6() && !ip.Is4In6()
}

// sameHost compares two URI hosts as addresses: sipgo parses an IPv6 Contact as
// "[2001:db8::1]" while ours is stored bare, and the registrar's expires for our binding was
// missed (we refreshed on what we asked for, and lost the binding when it granted less).
func sameHost(a, b string) bool {
	a, b = strings.Trim(a, "[]"), strings.Trim(b, "[]")
	if x, err := netip.ParseAddr(a); err == nil {
		if y, err := netip.ParseAddr(b); err == nil {
			return x.Unmap() == y.Unmap()
		}
	}
	return strings.EqualFold(a, b)
}

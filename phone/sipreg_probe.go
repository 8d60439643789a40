package phone

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// probeTimeout bounds the OPTIONS that asks a server where it sees us: a call waits for it
// at most this long, and then goes on with what it knows.
const probeTimeout = 2 * time.Second

// learnAddressByOptions asks target (the account's first hop) where it sees our UDP socket,
// with an OPTIONS whose Via carries rport (RFC 3581), when no REGISTER has told us yet (an
// account that does not register, such as `dialtone call`'s). Behind a NAT that keeps ports,
// the answer is the address the far end can send audio to; without it a call offers its
// private address and its audio never arrives. A server that does not answer costs probeTimeout
// and nothing else. Called with r.mu held.
func (r *sipRegistrar) learnAddressByOptions(ctx context.Context, target string) {
	if r.acc.Transport != UDP || r.udpListen == nil || r.viaKnown || !mayBeBehindNAT(target) {
		return
	}
	if err := r.updateContact(ctx, target); err != nil {
		return
	}
	res := r.askWhereSeen(ctx, target)
	if res != nil && r.learnPublicAddress(res) {
		_ = r.updateContact(ctx, target) // the Contact follows the public address
	}
}

// mayBeBehindNAT says whether a NAT can lie between us and target (ip:port): not when it is
// our own machine, nor when our address towards it is public.
func mayBeBehindNAT(target string) bool {
	ap, err := netip.ParseAddrPort(target)
	if err != nil || ap.Addr().IsLoopback() {
		return false
	}
	local, err := localIPFor(target)
	return err == nil && !isPublicAddr(parseIP(local))
}

// newOptions is an OPTIONS to the account's server from our listening socket.
func (r *sipRegistrar) newOptions(target string) *sip.Request {
	req := sip.NewRequest(sip.OPTIONS, *r.acc.registrar.Clone())
	req.SetTransport(strings.ToUpper(r.acc.Transport.String()))
	req.SetDestination(target)
	r.addHops(req, target) // learnAddressByOptions runs only with a UDP listening socket
	from := &sip.FromHeader{DisplayName: quoteDisplay(r.acc.DisplayName), Address: r.acc.aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: r.acc.aor})
	callID := sip.CallIDHeader(sip.GenerateTagN(24))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	if r.userAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", r.userAgent))
	}
	req.SetBody(nil)
	return req
}

// addHops names the outbound proxy in a Route (with ;lr, at the address the request goes to)
// and, over UDP, sends the request from our listening socket with a Via saying so and asking
// for rport, as every out-of-dialog request of an account must.
func (r *sipRegistrar) addHops(req *sip.Request, target string) {
	if r.acc.proxy != nil {
		route := &sip.RouteHeader{Address: *r.acc.proxy.Clone()}
		route.Address.UriParams = sip.NewParams()
		route.Address.UriParams.Add("lr", "")
		req.AppendHeader(route)
		routeVia(req, target)
	}
	if r.udpListen != nil {
		listen := r.listenFor(target)
		req.Laddr = sip.Addr{IP: listen.IP, Port: listen.Port}
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
			Host: r.contact.Host, Port: r.contact.Port, Params: sip.NewParams()}
		via.Params.Add("branch", sip.GenerateBranch())
		via.Params.Add("rport", "")
		req.AppendHeader(via)
	}
}

// natMoved asks the account's registrar, with an OPTIONS from our socket, where it sees us
// now, and returns that address when it is no longer the public one our binding carries: the
// NAT rebooted, or a carrier-grade NAT gave us another mapping. The registrar then sends calls
// to a mapping that no longer exists until the next refresh (half the lifetime: up to half an
// hour). Only for UDP accounts found behind NAT; any answer will do (Via received/rport, RFC
// 3581, is in every response), and no answer says nothing. It holds r.mu for probeTimeout at
// most, as a REGISTER does. An account not behind NAT is checked without asking (localMoved).
func (r *sipRegistrar) natMoved(ctx context.Context) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	target := r.current
	if r.acc.Transport != UDP || target == "" {
		return "", false
	}
	if r.natHost == "" {
		return r.localMoved(target)
	}
	res := r.askWhereSeen(ctx, target)
	if res == nil {
		return "", false
	}
	host, port, moved := publicAddress(res.Via(), r.natHost, r.natPort)
	if !moved {
		return "", false
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), true
}

// localMoved is natMoved for an account not behind NAT, whose Contact carries our own address
// towards target: when the route there now leaves from another one (the laptop went from
// Wi-Fi to Ethernet, a new DHCP lease, a VPN came up), it returns that address, and the
// registrar has been sending calls to one we no longer have. A socket bound to one address
// does not move. Called with r.mu held.
func (r *sipRegistrar) localMoved(target string) (string, bool) {
	listen := r.listenFor(target)
	if r.contact.Host == "" || listen == nil || !listen.IP.IsUnspecified() {
		return "", false
	}
	ip, err := localIPFor(target)
	if err != nil || parseIP(ip) == parseIP(strings.Trim(r.contact.Host, "[]")) {
		return "", false // no route now says nothing: the next REGISTER finds out
	}
	return net.JoinHostPort(ip, strconv.Itoa(r.contact.Port)), true
}

// askWhereSeen sends target an OPTIONS from our socket, whose answer's Via (received/rport)
// says where it sees us; nil when none came within probeTimeout. Called with r.mu held.
func (r *sipRegistrar) askWhereSeen(ctx context.Context, target string) *sip.Response {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	res, err := r.client.Do(ctx, r.newOptions(target))
	if err != nil {
		r.log.Debug("OPTIONS for our public address: no answer", "target", target, "err", err)
		return nil
	}
	return res
}

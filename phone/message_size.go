package phone

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Requests too large for one datagram under the path MTU. RFC 3261 §18.1.1 sends a request
// larger than 1300 bytes by a congestion-controlled transport (TCP), and sipgo refuses to write
// one over UDP at all (sip.ErrUDPMTUCongestion). That made an SDES offer of every codec fail on a
// UDP account as soon as a proxy challenged it ("cannot reach … over udp"): four a=crypto
// lines, a Route and a Proxy-Authorization pass 1300 bytes.
//   - Every request may be a datagram of any size (udpMaxDatagram): the IP layer fragments it,
//     as baresip and libre send it. An INVITE stays on UDP: its dialog (CANCEL, ACK, the far
//     end's requests to our Contact) belongs to the account's transport.
//   - A long instant message goes to the same server by TCP, as the RFC asks; its response comes
//     back on that connection, so nothing needs to listen for TCP on our side. A server that
//     takes no TCP gets it by UDP after all (sendMessageTo).

func init() {
	// sipgo refuses datagrams over UDPMTUSize-200 bytes; the kernel's limit is the real one.
	sip.UDPMTUSize = udpMaxDatagram + 200
}

// udpMaxDatagram is the largest UDP payload over IPv4 (65535 less the IP and UDP headers).
const udpMaxDatagram = 65507

// udpComfort is the largest request RFC 3261 §18.1.1 sends by UDP when the path MTU is unknown.
const udpComfort = 1300

// tooBigForUDP says whether req, as it stands, is larger than a request RFC 3261 sends by UDP.
func tooBigForUDP(req *sip.Request) bool {
	n := len(req.String())
	if req.Via() == nil {
		n += viaRoom // the client adds its Via as it sends
	}
	return n > udpComfort
}

// viaRoom is the most a Via the client adds can take: an IPv6 sent-by, a branch, rport.
const viaRoom = 160

// viaTransport moves req to transport t (TCP or UDP): its own, its Route's (as
// newOutOfDialogRequest writes it), and a Via the client makes anew for it.
func viaTransport(req *sip.Request, t Transport) {
	req.SetTransport(strings.ToUpper(t.String()))
	req.RemoveHeader("Via")
	if h, ok := req.GetHeader("Route").(*sip.RouteHeader); ok && h != nil && h.Address.Scheme != "sips" {
		r := &sip.RouteHeader{Address: *h.Address.Clone()}
		if r.Address.UriParams == nil {
			r.Address.UriParams = sip.NewParams()
		}
		if t == UDP {
			r.Address.UriParams.Remove("transport")
		} else {
			r.Address.UriParams.Add("transport", t.String())
		}
		req.ReplaceHeader(r)
	}
}

// tcpConnectWait is how long a long message waits for a TCP connection to its server before it
// goes by UDP after all.
var tcpConnectWait = 3 * time.Second // a variable for tests only

// tcpOpens says whether a TCP connection to dest (ip:port) opens within tcpConnectWait: sipgo's
// own dial, which the request then makes, would wait up to a minute on a server behind a
// firewall that drops TCP.
var tcpOpens = func(ctx context.Context, dest string) bool { // a variable for tests only
	d := net.Dialer{Timeout: tcpConnectWait}
	c, err := d.DialContext(ctx, "tcp", dest)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// couldNotConnect says whether err is a failure to open a connection (refused, no route, the
// dial itself), after which nothing of the request reached the server.
func couldNotConnect(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.As(err, &op) && op.Op == "dial"
}

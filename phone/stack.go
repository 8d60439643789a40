package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The SIP machinery of a running phone: the user agent, its UDP sockets (IPv4 and IPv6 on one
// port) and the request handlers.

// allowMethods is every method we handle, for Allow headers (RFC 3261 20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, UPDATE, REFER, NOTIFY"

// handleRequests installs the request handlers. It runs before any socket is served: sipgo
// reads its handler table on every request, and filling it while requests arrive is a data
// race. A call that arrives before Run has finished starting is refused (addCall: no stack yet).
func (p *Phone) handleRequests(s *stack) {
	s.srv.OnOptions(requireKnown(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := tx.Respond(optionsAnswer(req)); err != nil {
			p.log.Debug("respond to OPTIONS", "err", err)
		}
	}))
	s.srv.OnRegister(p.onRegister) // 405 with Allow over TCP and TLS; UDP's is stateless (scanner.go)
	// Every request that Requires an extension we do not do gets 420 first (require.go).
	s.srv.OnInvite(requireKnown(func(req *sip.Request, tx sip.ServerTransaction) { p.onInvite(s, req, tx) }))
	s.srv.OnBye(p.onBye) // a BYE ends the session whatever it Requires: the far end's is over
	s.srv.OnAck(p.onAck)
	s.srv.OnCancel(onStrayCancel) // one that matches a transaction never gets here
	s.srv.OnMessage(requireKnown(p.onMessage))
	s.srv.OnUpdate(requireKnown(p.onUpdate)) // an offer in the dialog, like a re-INVITE (hold_sip.go)
	// Transfer: REFER from the far end (refer.go), NOTIFYs of our own REFERs (transfer.go).
	s.srv.OnRefer(requireKnown(func(req *sip.Request, tx sip.ServerTransaction) { p.onRefer(s, req, tx) }))
	s.srv.OnNotify(p.onNotify)           // the outcome of our REFER: taken whatever it Requires
	s.srv.OnInfo(requireKnown(p.onInfo)) // DTMF by SIP INFO (info.go)
	s.srv.OnNoRoute(p.onNoRoute)
}

// onNoRoute answers a request of a method we do not handle (SUBSCRIBE, PUBLISH, PRACK, or a
// made-up one) 405 with Allow, as RFC 3261 §8.2.1 asks; sipgo's own 405 had no Allow, and it
// logged a warning with the method whole for each (a scanner's 12 KB method, 12 KB of log).
func (p *Phone) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	method := string(req.Method)
	if len(method) > 32 {
		method = method[:32] + "…"
	}
	p.log.Debug("request of a method we do not handle", "method", method)
	if err := tx.Respond(methodNotAllowed(req)); err != nil {
		p.log.Debug("respond 405", "method", method, "err", err)
	}
}

// stack is the SIP machinery of a running phone.
type stack struct {
	ctx     context.Context // Run's context: ends when the phone stops
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	udp     net.PacketConn
	udpAddr *net.UDPAddr
	// udp6 is the IPv6 socket beside the IPv4 one (same port when it was free), nil where the
	// host has no IPv6 or a specific IPv4 listen address was asked for.
	udp6     net.PacketConn
	udp6Addr *net.UDPAddr
	sipSTUN  netip.AddrPort // the UDP socket's public address from STUN at start-up, if asked
	wg       sync.WaitGroup
	spare    spareMedia   // RTP ports bound ahead for Config.AutoAnswer (incoming_fast.go)
	screen   *screen      // scanner requests answered or dropped without state (scanner.go)
	sipLog   *slog.Logger // the phone's log, for sipgo's server and clients: cut and limited (siplog.go)
	// The calls' sipgo clients, one for each way of sending (leg_clients.go).
	clients clientCache
}

func (p *Phone) startStack(ctx context.Context) (*stack, error) {
	opts := []sipgo.UserAgentOption{sipgo.WithUserAgent(p.userAgent())}
	opts = append(opts, sipgo.WithUserAgenTLSConfig(p.clientTLS(p.cfg.TLS)))
	scr := newScreen(p.log)
	// Scanners answered or dropped first (scanner.go), then the flow tracker's filter.
	opts = append(opts, p.screenedFlowOption(scr))
	opts = append(opts, sipgo.WithUserAgentParser(transferParser())) // a bad Refer-To gets our 400 (transfer_dialog.go)
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	scr.tp.Store(ua.TransportLayer())
	s := &stack{ctx: ctx, ua: ua, screen: scr, sipLog: SIPLogger(p.log)}
	s.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(s.sipLog))
	if err != nil {
		ua.Close()
		return nil, fmt.Errorf("sip server: %w", err)
	}
	p.handleRequests(s)
	listen := p.cfg.ListenAddr
	if listen == "" {
		listen = "0.0.0.0:0"
	}
	network := "udp4"
	if host, _, err := net.SplitHostPort(listen); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() && !ip.Is4In6() {
			network = "udp6" // --listen [::1]:5060
		}
	}
	var lc net.ListenConfig
	s.udp, err = lc.ListenPacket(ctx, network, listen)
	if err != nil {
		ua.Close()
		return nil, &Error{Op: "listen " + listen, Failure: FailureNetwork, Reason: "cannot open the local SIP port", Err: err}
	}
	s.udpAddr = s.udp.LocalAddr().(*net.UDPAddr)
	p.log.Info("listening", "transport", "udp", "addr", s.udpAddr.String())
	s.sipSTUN = p.discoverSIPAddress(ctx, s.udp) // before sipgo reads the socket
	s.wg.Go(func() {
		if err := s.srv.ServeUDP(s.udp); err != nil && !errors.Is(err, net.ErrClosed) {
			p.log.Debug("udp listener stopped", "err", err)
		}
	})
	// ServeUDP adds the socket to sipgo's connection pool from its own goroutine; requests
	// sent before that would open a second socket on the same port and fail.
	if err := waitForListener(ctx, ua.TransportLayer(), s.udpAddr.String()); err != nil {
		s.close()
		return nil, err
	}
	if s.udpAddr.IP.IsUnspecified() {
		p.listenUDP6(ctx, s)
	}
	return s, nil
}

// listenUDP6 opens the IPv6 SIP socket, on the IPv4 socket's port when it is free, so that
// calls to and from IPv6 peers work; a host without IPv6 simply goes without.
func (p *Phone) listenUDP6(ctx context.Context, s *stack) {
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp6", net.JoinHostPort("::", strconv.Itoa(s.udpAddr.Port)))
	if err != nil {
		conn, err = lc.ListenPacket(ctx, "udp6", "[::]:0")
	}
	if err != nil {
		p.log.Info("no IPv6 SIP socket", "err", err)
		return
	}
	s.udp6, s.udp6Addr = conn, conn.LocalAddr().(*net.UDPAddr)
	s.wg.Go(func() {
		if err := s.srv.ServeUDP(conn); err != nil && !errors.Is(err, net.ErrClosed) {
			p.log.Debug("udp6 listener stopped", "err", err)
		}
	})
	if err := waitForListener(ctx, s.ua.TransportLayer(), s.udp6Addr.String()); err != nil {
		p.log.Info("IPv6 SIP socket did not start", "err", err)
		conn.Close()
		s.udp6, s.udp6Addr = nil, nil
		return
	}
	p.log.Info("listening", "transport", "udp", "addr", s.udp6Addr.String())
}

// udpFor is the SIP UDP socket's address for talking to dest (ip:port): the IPv6 one for an
// IPv6 destination when there is one.
func (s *stack) udpFor(dest string) *net.UDPAddr {
	if host, _, err := net.SplitHostPort(dest); err == nil && s.udp6Addr != nil {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is6() && !ip.Is4In6() {
			return s.udp6Addr
		}
	}
	return s.udpAddr
}

func (s *stack) close() {
	if s.udp6 != nil {
		s.udp6.Close()
	}
	s.udp.Close()
	s.wg.Wait()
	s.srv.Close()
	s.ua.Close()
	s.spare.close()
	s.screen.report()
}

func waitForListener(ctx context.Context, tp *sip.TransportLayer, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		if c, err := tp.GetConnection("udp", addr); err == nil {
			c.TryClose() // GetConnection took a reference
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("udp listener %s did not start: %w", addr, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

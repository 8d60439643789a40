package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sipRegistrar sends one account's REGISTERs through sipgo.
type sipRegistrar struct {
	acc       *account
	userAgent string
	client    *sipgo.Client
	tp        *sip.TransportLayer
	resolver  resolver
	log       *slog.Logger
	// udpListen is our UDP listening socket's address; REGISTERs leave from it so that the
	// registrar and later requests reach the same port. Empty for TCP and TLS.
	udpListen *net.UDPAddr
	// udp6Listen is the IPv6 socket beside it (nil without one): IPv6 registrars are reached
	// from there.
	udp6Listen *net.UDPAddr

	target atomic.Pointer[string] // ip:port the last REGISTER went to, for keep-alives
	// view is what calls and messages need of the registration, published when a REGISTER
	// ends, and pass the password once fetched, so that they do not wait for mu while a
	// REGISTER is in progress: a refresh to a registrar that does not answer holds mu for its
	// whole transaction (32 s over UDP), and a call placed or answered meanwhile waited for it
	// (callTargets, publicAddr, passwordFor). pass is written under mu (getPassword).
	view atomic.Pointer[regView]
	pass atomic.Pointer[string]
	// current is the target (ip:port) where the last REGISTER succeeded: refreshes and calls
	// go there first. attemptTimeout bounds each transaction when there are other targets.
	current        string
	attemptTimeout time.Duration
	// known is the last target list DNS gave, used when a later lookup fails (lookUp). Not
	// under mu: calls read it too, while a REGISTER in progress holds mu through its DNS and
	// its transaction.
	known atomic.Pointer[[]resolve.Target]
	// minExpires is the lifetime a registrar's 423 asked for at least (Min-Expires).
	minExpires time.Duration

	mu      sync.Mutex // guards the fields below: register may run during shutdown
	callID  string
	fromTag string
	cseq    uint32
	contact sip.Uri // current binding, kept for the Expires: 0 at the end
	stale   sip.Uri // a previous binding to remove (our address changed)
	natHost string  // our address as the registrar sees it over UDP, when behind NAT
	// streamHost is our IP as the registrar saw it over TCP/TLS, when behind NAT ("" else).
	streamHost string
	// viaKnown is true once a server's Via has told us where it sees us (NAT or not).
	viaKnown bool
	natPort  int
}

func newSIPRegistrar(acc *account, client *sipgo.Client, tp *sip.TransportLayer, r resolver, udpListen *net.UDPAddr, userAgent string, log *slog.Logger) *sipRegistrar {
	return &sipRegistrar{
		acc: acc, client: client, tp: tp, resolver: r, udpListen: udpListen, userAgent: userAgent,
		log:     log.With("account", acc.Name),
		callID:  sip.GenerateTagN(24),
		fromTag: sip.GenerateTagN(16),
		cseq:    1,
	}
}

func (r *sipRegistrar) op() string { return "register " + r.acc.aor.Addr() }

// serverURI is where requests go first: the outbound proxy if any, else the registrar.
func (r *sipRegistrar) serverURI() sip.Uri {
	if r.acc.proxy != nil {
		return *r.acc.proxy
	}
	return r.acc.registrar
}

// lookUp resolves the registrar's servers, and keeps them. When DNS is down (or the router lost
// its upstream) it gives the ones it gave last time: they are most likely still there, and a
// refresh that waits for DNS lets the binding lapse, a call that waits fails.
func (r *sipRegistrar) lookUp(ctx context.Context, server sip.Uri) ([]resolve.Target, error) {
	targets, err := resolveTargets(ctx, r.resolver, server, r.acc.Transport)
	if err == nil {
		r.known.Store(&targets)
		return slices.Clone(targets), nil // the caller reorders its own
	}
	k := r.known.Load()
	if k == nil || len(*k) == 0 || ctx.Err() != nil {
		return nil, err
	}
	r.log.Warn("DNS lookup failed; using the servers it gave last time", "registrar", server.Host, "err", err)
	return slices.Clone(*k), nil
}

func (r *sipRegistrar) register(ctx context.Context, expires time.Duration) (regResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.publishView()
	server := r.serverURI()
	targets, err := r.lookUp(ctx, server)
	if err != nil {
		return regResult{}, transportError(r.op(), server.Host, r.acc.Transport, err)
	}
	// Refreshes go where the last REGISTER succeeded; if that server fails, the list is
	// tried from the top (RFC 3263 4.3). Removing the binding only makes sense where it is.
	targets = firstAt(r.usable(targets), r.current)
	if expires == 0 && r.current != "" {
		targets = targets[:1]
	}
	r.attemptTimeout = timeoutFor(len(targets))
	var tried []attempt
	for _, t := range targets {
		res, err := r.registerAt(ctx, t.Addr.String(), expires)
		if err == nil {
			r.current = t.Addr.String()
			if len(tried) > 0 {
				r.log.Info("registered at a fallback server", "target", t.String(), "failed", len(tried))
			}
			return res, nil
		}
		if ctx.Err() != nil || !failsOver(err) {
			return regResult{}, err
		}
		tried = append(tried, attempt{t, err})
		r.log.Info("registrar did not answer; trying the next", "target", t.String(), "err", err)
	}
	r.current = ""
	return regResult{}, failoverError(r.op(), tried)
}

// registerAt is one REGISTER exchange (challenges, 423, NAT discovery) with one target.
func (r *sipRegistrar) registerAt(ctx context.Context, target string, expires time.Duration) (regResult, error) {
	if expires > 0 || r.contact.Host == "" {
		if err := r.updateContactWithin(ctx, target); err != nil {
			return regResult{}, err
		}
	}
	r.target.Store(&target)
	res, granted, err := r.transact(ctx, target, expires)
	if err != nil {
		return regResult{}, err
	}
	r.stale = sip.Uri{}
	if expires > 0 && r.learnPublicAddress(res) {
		// The registrar sees us at another address (we are behind NAT): bind that one, so
		// that incoming requests reach us through the NAT's mapping, and drop the old one.
		if err := r.updateContactWithin(ctx, target); err != nil {
			return regResult{}, err
		}
		if res, granted, err = r.transact(ctx, target, granted); err != nil {
			return regResult{}, err
		}
		r.stale = sip.Uri{}
	}
	return r.result(res, granted), nil
}

// transact sends one REGISTER and answers its challenges; it returns the 2xx and the
// lifetime asked for in the end (a 423 raises it).
func (r *sipRegistrar) transact(ctx context.Context, target string, expires time.Duration) (*sip.Response, time.Duration, error) {
	var auth challenges
	var answers digestAnswers // Authorization and Proxy-Authorization, the latest of each
	if expires > 0 {
		expires = max(expires, r.minExpires) // the registrar's 423 said so before
	}
	for {
		req := r.newRequest(target, expires)
		if err := answers.apply(req); err != nil {
			return nil, 0, &Error{Op: r.op(), Failure: FailureRefused, Reason: "digest", Err: err}
		}
		res, err := doAttempt(ctx, r.client, req, r.acc.Transport, target, r.attemptTimeout)
		if err != nil {
			return nil, 0, transportError(r.op(), target, r.acc.Transport, err)
		}
		switch {
		case res.IsSuccess():
			return res, expires, nil
		case res.StatusCode == 401 || res.StatusCode == 407:
			if !auth.mayAnswer(res) {
				r.pass.Store(nil) // refused: read the source again next time (it may have changed)
				who := "registrar"
				if res.StatusCode == 407 {
					who = "proxy"
				}
				return nil, 0, &Error{Op: r.op(), Failure: FailureAuth, Code: int(res.StatusCode), Reason: res.Reason,
					Err: fmt.Errorf("the %s rejected the credentials of %q", who, r.acc.AuthUser)}
			}
			pw, err := r.getPassword(ctx)
			if err != nil {
				return nil, 0, &Error{Op: r.op(), Failure: FailureConfig, Reason: "no password", Err: err}
			}
			// A challenge we cannot answer (an unknown algorithm) is refused here, with its code.
			if _, err := authorize(sip.NewRequest(sip.REGISTER, req.Recipient), res, r.acc.AuthUser, pw); err != nil {
				return nil, 0, &Error{Op: r.op(), Failure: FailureRefused, Code: int(res.StatusCode), Reason: res.Reason, Err: err}
			}
			answers.add(res, r.acc.AuthUser, pw) // answered in the next request
		case res.StatusCode == 423 && expires > 0:
			// Interval Too Brief: ask again with the registrar's minimum, once.
			minExp := headerSeconds(res, "Min-Expires")
			if minExp <= expires {
				return nil, 0, responseError(r.op(), res, auth.sent())
			}
			expires, r.minExpires = minExp, minExp // and at every refresh: no 423 each time
		default:
			e := responseError(r.op(), res, auth.sent())
			if e.Failure == FailureNotFound {
				e.Failure = FailureRefused // "not found" is a call outcome; a registrar refusing us is a refusal
			}
			return nil, 0, e
		}
	}
}

// learnPublicAddress reads the address the registrar saw us at (Via received/rport, RFC
// 3581) and reports whether it differs from our UDP Contact and is new to us.
func (r *sipRegistrar) learnPublicAddress(res *sip.Response) bool {
	r.viaKnown = true
	host, port, ok := publicAddress(res.Via(), r.contact.Host, r.contact.Port)
	if r.acc.Transport != UDP {
		// Over TCP and TLS the Contact is the connection and stays; but the IP the registrar
		// saw is still our public address, which the media needs behind NAT.
		r.streamHost = ""
		if ok && host != r.contact.Host {
			r.streamHost = host
		}
		return false
	}
	if !ok || (host == r.natHost && port == r.natPort) {
		return false
	}
	r.log.Info("registrar sees us behind NAT; registering the public address", "contact", r.contact.String(), "public", net.JoinHostPort(host, strconv.Itoa(port)))
	r.natHost, r.natPort = host, port
	return true
}

// publicAddress returns the source address a server recorded in our Via, if it differs from
// host:port.
func publicAddress(via *sip.ViaHeader, host string, port int) (string, int, bool) {
	if via == nil {
		return "", 0, false
	}
	pubHost, pubPort := host, port
	if v, ok := via.Params.Get("received"); ok && v != "" {
		pubHost = v
	}
	if v, ok := via.Params.Get("rport"); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
			pubPort = n
		}
	}
	if pubHost == host && pubPort == port {
		return "", 0, false
	}
	return pubHost, pubPort, true
}

// updateContact decides our Contact for the next REGISTER. Over UDP it is our listening
// socket at the address that routes to the server; over TCP and TLS it is the local end of
// the connection to the server, so the registrar sends incoming requests down that same
// connection (we could not accept a new one through NAT or a firewall anyway).
func (r *sipRegistrar) updateContact(ctx context.Context, target string) error {
	c := sip.Uri{Scheme: "sip", User: r.acc.aor.User}
	switch r.acc.Transport {
	case UDP:
		listen := r.listenFor(target)
		host := listen.IP.String()
		if listen.IP.IsUnspecified() {
			ip, err := localIPFor(target)
			if err != nil {
				return transportError(r.op(), target, r.acc.Transport, err)
			}
			host = ip
		}
		c.Host, c.Port = host, listen.Port
	default:
		probe := r.newRequest(target, 0)
		via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: probe.Transport(), Params: sip.NewParams()}
		via.Params.Add("branch", sip.GenerateBranch())
		probe.PrependHeader(via)
		conn, err := r.tp.ClientRequestConnection(ctx, probe)
		if err != nil {
			return transportError(r.op(), target, r.acc.Transport, err)
		}
		host, port, err := net.SplitHostPort(conn.LocalAddr().String())
		conn.TryClose()
		if err != nil {
			return &Error{Op: r.op(), Failure: FailureNetwork, Reason: "local address", Err: err}
		}
		c.Host = host
		c.Port, _ = strconv.Atoi(port)
		c.UriParams = sip.NewParams()
		c.UriParams.Add("transport", r.acc.Transport.String())
	}
	if r.acc.Transport == UDP && r.natHost != "" {
		c.Host, c.Port = r.natHost, r.natPort
	}
	if r.contact.Host != "" && r.contact.String() != c.String() {
		r.stale = r.contact // say goodbye to the old binding in the next REGISTER
	}
	r.contact = c
	return nil
}

func (r *sipRegistrar) newRequest(target string, expires time.Duration) *sip.Request {
	recipient := *r.acc.registrar.Clone()
	if r.acc.Transport != UDP && recipient.Scheme != "sips" {
		recipient.UriParams = recipient.UriParams.Clone()
		if recipient.UriParams == nil {
			recipient.UriParams = sip.NewParams()
		}
		recipient.UriParams.Add("transport", r.acc.Transport.String())
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.SetTransport(strings.ToUpper(r.acc.Transport.String()))
	req.SetDestination(target)
	r.addHops(req, target)
	from := &sip.FromHeader{DisplayName: quoteDisplay(r.acc.DisplayName), Address: r.acc.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: r.acc.aor})
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(&callID)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	if r.contact.Host != "" {
		req.AppendHeader(&sip.ContactHeader{Address: r.contact})
	}
	if r.stale.Host != "" && expires > 0 {
		old := &sip.ContactHeader{Address: r.stale, Params: sip.NewParams()}
		old.Params.Add("expires", "0")
		req.AppendHeader(old)
	}
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	if r.userAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", r.userAgent))
	}
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.SetBody(nil)
	return req
}

func (r *sipRegistrar) getPassword(ctx context.Context) (string, error) {
	if pw := r.pass.Load(); pw != nil {
		return *pw, nil
	}
	if r.acc.Password == nil {
		return "", fmt.Errorf("account %s has no password source", r.acc.Name)
	}
	pw, err := r.acc.Password(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errPasswordSource, err)
	}
	r.pass.Store(&pw)
	return pw, nil
}

// errPasswordSource is a password source that failed (a password_cmd whose keyring is still
// locked, an unreadable file): unlike credentials refused, it may work a moment later.
var errPasswordSource = errors.New("the password source failed")

// maxDeltaSeconds is the largest delta-seconds (RFC 3261 25.1: 2**32-1 for anything larger).
// Without the cap, "Expires: 9999999999" overflowed time.Duration into a negative or tiny
// lifetime, and the registration was refreshed every 500 ms (FuzzOutgoingResponse).
const maxDeltaSeconds = 1<<32 - 1

func hasStaleChallenge(res *sip.Response) bool {
	c, err := pickChallenge(challengeValues(res))
	return err == nil && c.Stale
}

// headerSeconds is res's header name as delta-seconds (Expires, Min-Expires), 0 when absent or
// not a number.
func headerSeconds(res *sip.Response, name string) time.Duration {
	h := res.GetHeader(name)
	if h == nil {
		return 0
	}
	return deltaSeconds(strings.TrimSpace(h.Value()))
}

// deltaSeconds is v as delta-seconds (RFC 3261 25.1), at most maxDeltaSeconds; 0 when v is not
// a number or is negative.
func deltaSeconds(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, maxDeltaSeconds)) * time.Second
}

// passwordFor returns the account's password for answering a challenge outside REGISTER.
func (r *sipRegistrar) passwordFor(ctx context.Context) (string, error) {
	if r == nil {
		return "", errAccountStarting
	}
	if pw := r.pass.Load(); pw != nil {
		return *pw, nil // known: no waiting for a REGISTER in progress
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getPassword(ctx)
}

// lastTarget is where the last REGISTER went ("" before the first).
func (r *sipRegistrar) lastTarget() string {
	if t := r.target.Load(); t != nil {
		return *t
	}
	return ""
}

package diag

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/emiago/sipgo/sip"
)

// Input is everything the checks need. The front end builds it from the config file and
// flags; passwords stay behind Account.Password and are never shown.
type Input struct {
	Account phone.Account
	// Config gives the TLS settings, user agent and logger; its Accounts are ignored.
	Config phone.Config
	// ConfigPath is the file the account came from ("" for an ad-hoc account).
	ConfigPath string
	// PasswordSource describes where the password comes from ("password_env DIALTONE_PASSWORD"),
	// "" when none is configured; PasswordProblem is why that source gives no password.
	PasswordSource  string
	PasswordProblem string
	STUNServer      string // host[:port]; "" when none is configured
	// TURN is the relay in effect for the account (its own, else the global one); nil: none.
	TURN      *phone.TURNServer
	DNSServer string
	TLSCAFile string
	// Resolver finds the server's targets; nil uses NetResolver with DNSServer.
	Resolver Resolver
	// RegisterTimeout bounds the REGISTER check; 0 means 20 s.
	RegisterTimeout time.Duration
	// NoRegister skips the REGISTER check (for a probe that must not touch the account).
	NoRegister bool
}

func (in *Input) turnAddr() string {
	if in.TURN == nil {
		return ""
	}
	return in.TURN.Addr
}

func (in *Input) aorURI() string {
	var u sip.Uri
	if err := sip.ParseUri(in.Account.AOR, &u); err == nil {
		return "sip:" + u.User + "@" + u.Host
	}
	return in.Account.AOR
}

// server is the first hop's URI: the outbound proxy, else the registrar, else the AOR's domain.
func (in *Input) server() (role string, uri sip.Uri, err error) {
	role, s := "outbound_proxy", in.Account.OutboundProxy
	if s == "" {
		role, s = "registrar", in.Account.Registrar
	}
	if s == "" {
		var aor sip.Uri
		if err := sip.ParseUri(in.Account.AOR, &aor); err != nil {
			return "aor", sip.Uri{}, fmt.Errorf("aor %q: %w", in.Account.AOR, err)
		}
		role, s = "registrar (the AOR's domain)", "sip:"+aor.Host
	}
	if err := sip.ParseUri(s, &uri); err != nil {
		return role, sip.Uri{}, fmt.Errorf("%s %q: %w", role, s, err)
	}
	uri.Host = strings.Trim(uri.Host, "[]")
	return role, uri, nil
}

// Run performs every check in order and returns the report. It ends early only when ctx does.
func Run(ctx context.Context, in Input) *Report {
	rep := &Report{Account: in.Account.Name, AOR: in.Account.AOR}
	cfg := checkConfig(&in)
	rep.Checks = append(rep.Checks, cfg)
	_, uri, err := in.server()
	if err != nil {
		for _, name := range []string{"dns", "transport", "tls", "nat", "turn", "register"} {
			c := &Check{Name: name, Title: name}
			c.skip("the configuration has no usable server address (see config)")
			rep.Checks = append(rep.Checks, c)
		}
		return rep
	}
	dns, targets := checkDNS(ctx, &in, uri.Host, uri.Port)
	rep.Checks = append(rep.Checks, dns)

	probes := map[phone.Transport][]targetProbe{}
	for _, t := range []phone.Transport{phone.UDP, phone.TCP, phone.TLS} {
		var ts []Target
		for _, x := range targets {
			if x.Transport == t {
				ts = append(ts, x)
			}
		}
		if len(ts) == 0 {
			continue
		}
		c, ps := checkTransport(ctx, &in, t, ts)
		probes[t] = ps
		rep.Checks = append(rep.Checks, c)
	}
	tlsCheck := checkTLS(&in, uri.Host, probes[phone.TLS])
	rep.Checks = append(rep.Checks, tlsCheck)
	// The registrar's view of the NAT socket is asked only of a UDP target that answered
	// OPTIONS: a dead one would cost another timeout and tell nothing.
	var udpAnswering *Target
	for _, p := range probes[phone.UDP] {
		if p.Err == nil {
			udpAnswering = &p.Target
			break
		}
	}
	natCheck, kind := checkNAT(ctx, &in, udpAnswering)
	rep.Checks = append(rep.Checks, natCheck, checkTURN(ctx, &in, kind))

	reachable := false
	for _, p := range probes[in.Account.Transport] {
		reachable = reachable || p.Err == nil
	}
	switch {
	case in.NoRegister:
		c := &Check{Name: "register", Title: "REGISTER round trip"}
		c.skip("skipped on request (--no-register)")
		rep.Checks = append(rep.Checks, c)
	case cfg.Status == Fail:
		c := &Check{Name: "register", Title: "REGISTER round trip"}
		c.skip("the configuration is not usable (see config)")
		rep.Checks = append(rep.Checks, c)
	case in.Account.Transport == phone.TLS && tlsCheck.Status == Fail:
		c := &Check{Name: "register", Title: "REGISTER round trip"}
		c.skip("the registrar's TLS certificate is not accepted (see tls): REGISTER would fail the same way")
		rep.Checks = append(rep.Checks, c)
	case !reachable:
		c := &Check{Name: "register", Title: "REGISTER round trip"}
		c.skip(fmt.Sprintf("the server does not answer over %s (see above)", in.Account.Transport))
		rep.Checks = append(rep.Checks, c)
	default:
		rep.Checks = append(rep.Checks, checkRegister(ctx, &in))
	}
	return rep
}

type targetProbe struct {
	Target
	probe
}

// checkTransport sends OPTIONS to every target of one transport. Any answer at all, 200 or
// 405 or 404, means a SIP server is there; only silence or a refusal means it is not.
func checkTransport(ctx context.Context, in *Input, t phone.Transport, ts []Target) (*Check, []targetProbe) {
	c := &Check{Name: "transport-" + t.String(), Title: "OPTIONS over " + t.String()}
	var rows []map[string]any
	var ps []targetProbe
	var answered, failed []string
	for _, x := range ts {
		var p probe
		if t == phone.UDP {
			p = probeUDP(ctx, in, x)
		} else {
			p = probeStream(ctx, in, x)
		}
		ps = append(ps, targetProbe{x, p})
		row := map[string]any{"target": x.Addr.String(), "found_by": x.From}
		if p.Err != nil {
			what, _ := probeError(p.Err, x)
			row["answer"] = what
			failed = append(failed, x.Addr.String()+": "+what)
		} else {
			row["answer"] = fmt.Sprintf("%d %s", p.Code, p.Reason)
			row["rtt_ms"] = ms(p.RTT)
			if p.Server != "" {
				row["server"] = p.Server
			}
			if p.Received.IsValid() && p.Received != p.Local {
				row["seen_as"] = p.Received.String()
			}
			answered = append(answered, x.Addr.String())
		}
		rows = append(rows, row)
	}
	c.add("targets", rows)
	mine := t == in.Account.Transport
	switch {
	case len(answered) > 0 && len(failed) == 0:
		if mine {
			c.Note = "a SIP server answers (any response code means it is there)"
		} else {
			c.Note = fmt.Sprintf("also offered (the account uses %s)", in.Account.Transport)
		}
	case len(answered) > 0:
		c.warn(fmt.Sprintf("%d of %d targets do not answer over %s: %s; requests fail over to the others after a delay",
			len(failed), len(ts), t, strings.Join(failed, "; ")), "tell the provider; nothing to change on your side")
	case !mine:
		c.skip(fmt.Sprintf("not offered at this address; the account uses %s, so nothing to fix", in.Account.Transport))
	default:
		fix := fmt.Sprintf("check the host and port of the server, that your firewall lets SIP over %s out, and that the provider offers %s", t, t)
		if t != phone.UDP {
			fix += " (or try transport = \"udp\")"
		}
		c.fail(phone.FailureNetwork, fmt.Sprintf("no SIP server answers over %s: %s", t, strings.Join(failed, "; ")), fix)
	}
	return c, ps
}

// checkConfig describes the account; it fails only when the account cannot work as written.
func checkConfig(in *Input) *Check {
	a := in.Account
	c := &Check{Name: "config", Title: "account " + a.Name}
	if in.ConfigPath != "" {
		c.add("file", in.ConfigPath)
	} else {
		c.add("file", "(none: ad-hoc account from flags)")
	}
	c.add("account", a.Name)
	c.add("aor", a.AOR)
	auth := a.AuthUser
	if auth == "" {
		var u sip.Uri
		if sip.ParseUri(a.AOR, &u) == nil {
			auth = u.User + " (the AOR's user)"
		}
	}
	c.add("auth_user", auth)
	c.add("transport", a.Transport.String())
	role, uri, err := in.server()
	c.add("registrar", orNone(a.Registrar, "(the AOR's domain)"))
	c.add("outbound_proxy", orNone(a.OutboundProxy, "(none)"))
	if err == nil {
		c.add("first_hop", role+" "+uri.Host+portSuffix(uri.Port))
	}
	if a.Expires > 0 {
		c.add("expires", int(a.Expires/time.Second))
	}
	c.add("password", orNone(in.PasswordSource, "(none)"))
	c.add("tls_ca", orNone(in.TLSCAFile, "(system roots only)"))
	if in.Config.TLS != nil && in.Config.TLS.InsecureSkipVerify {
		c.add("tls_insecure", true)
	}
	c.add("stun_server", orNone(in.STUNServer, "(none)"))
	c.add("turn_server", orNone(in.turnAddr(), "(none)"))
	c.add("dns_server", orNone(in.DNSServer, "(system)"))
	switch {
	case err != nil:
		c.fail(phone.FailureConfig, "the account's server address is not a SIP URI: "+err.Error(),
			"write registrar/outbound_proxy as sip:host[:port] and aor as sip:user@domain")
	case in.PasswordSource == "":
		c.warn("no password source is configured: a registrar that asks for credentials will be refused",
			"set password_env, password_file or password_cmd in the account (or --password-file / $DIALTONE_PASSWORD)")
	case in.PasswordProblem != "":
		c.fail(phone.FailureConfig, "the password source gives no password: "+in.PasswordProblem,
			"fix the password source named above (the variable set, the file readable, the command working)")
	case in.Config.TLS != nil && in.Config.TLS.InsecureSkipVerify:
		c.warn("TLS certificates are not verified (tls_insecure / --tls-insecure): anyone on the path can read and change your calls",
			"trust the provider's CA with --tls-ca FILE or tls_ca instead")
	}
	return c
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func portSuffix(p int) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprintf(":%d", p)
}

// addrOrEmpty prints an address or "" for the zero value.
func addrOrEmpty(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

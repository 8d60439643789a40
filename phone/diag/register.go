package diag

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/emiago/sipgo/sip"
)

// checkRegister registers the account once through the phone core itself (its digest, its
// Contact and NAT handling: the doctor must see what the phone would do), reports what the
// registrar granted, and removes that binding again (Expires: 0). The phone listens on a
// port of its own, so a dialtone already running with this account keeps its binding.
func checkRegister(ctx context.Context, in *Input) *Check {
	c := &Check{Name: "register", Title: "REGISTER round trip"}
	timeout := in.RegisterTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	cfg := in.Config
	acc := in.Account
	acc.Register = true
	cfg.Accounts = []phone.Account{acc}
	cfg.ListenAddr = freePortOf(cfg.ListenAddr)
	cfg.Calls, cfg.Messages = nil, nil
	if cfg.DNSServer == "" {
		cfg.DNSServer = in.DNSServer // the server the DNS check asked
	}
	ph, err := phone.New(cfg)
	if err != nil {
		c.fail(phone.FailureConfig, "the phone cannot be set up with this account: "+err.Error(), "fix the account as the message says")
		return c
	}
	runCtx, stop := context.WithCancel(context.Background()) // ends in stop(), after the unregister
	events := ph.Subscribe(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- ph.Run(runCtx) }()
	defer func() {
		stop()
		for range events { // read to the end: the phone's shutdown waits for every subscriber
		}
		<-runErr
	}()

	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var final *phone.AccountStatus
	for final == nil {
		select {
		case ev, ok := <-events:
			if !ok {
				err := <-runErr
				runErr <- err
				c.add("error", fmt.Sprint(err))
				c.fail(phone.FailureOf(err), "the phone stopped before registering: "+fmt.Sprint(err), "see the error above")
				return c
			}
			if s, ok := ev.(phone.AccountStatus); ok && (s.State == phone.Registered || s.State == phone.RegFailed) {
				final = &s
			}
		case <-wait.Done():
			c.add("waited_s", int(timeout/time.Second))
			c.fail(phone.FailureNetwork, fmt.Sprintf("no final answer to REGISTER within %s: the registrar is silent", timeout),
				"check that the registrar is the provider's and reachable over "+in.Account.Transport.String()+"; a firewall may drop the answers")
			return c
		}
	}
	c.add("time_ms", ms(time.Since(start)))
	if final.Code != 0 {
		c.add("code", final.Code)
		c.add("reason", final.Reason)
	}
	if final.State == phone.RegFailed {
		if final.Err != nil {
			c.add("error", final.Err.Error())
		}
		verdict, fix := registerVerdict(*final, in)
		c.fail(final.Failure, verdict, fix)
		return c
	}
	c.add("expires", int(final.Expires/time.Second))
	c.add("contact", final.Contact)
	local := ph.SIPAddr()
	if in.Account.Transport == phone.UDP {
		if ap, err := netip.ParseAddrPort(local); err == nil && ap.Addr().IsUnspecified() {
			c.add("local_port", int(ap.Port())) // listening on every address: only the port says anything
		} else {
			c.add("local", local)
		}
	}
	if pub, ok := natContact(final.Contact, local, in.Account.Transport); ok {
		c.add("nat", "the registrar saw this phone at "+pub+" (Via received/rport) and stored that address")
	} else if in.Account.Transport == phone.UDP {
		c.add("nat", "none seen by the registrar")
	}
	// Unregister: stop the phone and wait for its last word on the account.
	stop()
	for ev := range events {
		if s, ok := ev.(phone.AccountStatus); ok && s.State == phone.Unregistered {
			if s.Err != nil {
				c.add("unregister", "not confirmed: "+s.Err.Error())
			} else {
				c.add("unregister", "done (Expires: 0)")
			}
		}
	}
	if granted := final.Expires; granted > 0 && granted < 60*time.Second {
		c.Note = fmt.Sprintf("the registrar grants only %s: dialtone re-registers that often", granted)
	}
	return c
}

// registerVerdict says why the registrar refused, in words, with the fix.
func registerVerdict(s phone.AccountStatus, in *Input) (string, string) {
	switch s.Failure {
	case phone.FailureAuth:
		user := in.Account.AuthUser
		if user == "" {
			var u sip.Uri
			if sip.ParseUri(in.Account.AOR, &u) == nil {
				user = u.User
			}
		}
		return fmt.Sprintf("the registrar rejected the credentials (%d %s) for user %q", s.Code, s.Reason, user),
			"check the password (" + orNone(in.PasswordSource, "no source configured") + ") and auth_user (the digest user name, when the provider's differs from the AOR's user)"
	case phone.FailureConfig:
		return "no password could be had: " + errText(s.Err),
			"fix the password source (password_env, password_file or password_cmd)"
	case phone.FailureNetwork:
		return "the REGISTER did not get through: " + orNone(s.Reason, errText(s.Err)),
			"check the registrar's address and port and the firewall; a server that answers OPTIONS but not REGISTER is misconfigured"
	}
	if s.Code == 403 {
		return fmt.Sprintf("the registrar forbids this registration (%d %s)", s.Code, s.Reason),
			"check the AOR (sip:user@domain must be the provider's exact address) and that the account is active"
	}
	return fmt.Sprintf("the registrar refused the registration (%d %s)", s.Code, s.Reason),
		"check the AOR and registrar against the provider's settings; send this report to the provider"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// natContact reports the Contact's address when it is not the phone's own socket: the
// registration code puts the registrar's received/rport view there when it differs.
func natContact(contact, local string, t phone.Transport) (string, bool) {
	if t != phone.UDP {
		return "", false
	}
	var u sip.Uri
	if err := sip.ParseUri(contact, &u); err != nil {
		return "", false
	}
	_, lp, err := net.SplitHostPort(local)
	if err != nil {
		return "", false
	}
	port := strconv.Itoa(u.Port)
	ip, err := netip.ParseAddr(u.Host)
	if err != nil {
		return "", false
	}
	if port == lp && isLocalIP(ip) {
		return "", false
	}
	return net.JoinHostPort(u.Host, port), true
}

func isLocalIP(ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// freePortOf keeps the configured listen host but not its port: the user's own dialtone may
// hold that port, and the doctor's binding must be a separate one.
func freePortOf(listen string) string {
	if listen == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, "0")
}

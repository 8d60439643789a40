package main

import (
	"context"
	"fmt"

	"github.com/dialtone/dialtone/phone"
)

type registerCmd struct {
	Once bool `help:"Exit once every account has a first result (then unregister)."`
}

// Run registers every selected account and reports. Exit code: 0 when every account
// registered (or on SIGINT/SIGTERM after a normal run); otherwise the first failed account's
// code — 3 authentication, 4 network, 5 refused, 2 configuration.
func (c *registerCmd) Run(e *env) error {
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	var registering int
	for i := range cfg.Accounts {
		cfg.Accounts[i].Register = true // `register` means it, whatever the config says
		registering++
	}
	if registering == 0 {
		return usageErr("no accounts: add one to the config file or pass --aor sip:user@domain")
	}
	r, err := e.startPhone(cfg, true)
	if err != nil {
		if c.Once && e.ctx.Err() != nil {
			return onceInterrupted(cfg.Accounts[0].Name)
		}
		return err
	}
	defer context.AfterFunc(e.ctx, r.stop)() // SIGINT/SIGTERM: unregister and end
	out := &printer{w: e.stdout, json: e.cli.JSON}

	first := map[string]phone.AccountStatus{} // each account's first result
	last := map[string]phone.AccountStatus{}  // and its latest
	terminal := map[string]bool{}
	for ev := range r.Events {
		if m, ok := ev.(phone.Message); ok && m.Direction == phone.Incoming {
			out.message(m)
			continue
		}
		if v, ok := ev.(phone.Voicemail); ok {
			out.voicemail(v)
			continue
		}
		s, ok := ev.(phone.AccountStatus)
		if !ok {
			continue
		}
		out.registration(s)
		if s.State != phone.Registered && s.State != phone.RegFailed {
			continue
		}
		if _, seen := first[s.Account]; !seen {
			first[s.Account] = s
		}
		last[s.Account] = s
		terminal[s.Account] = s.Terminal()
		if c.Once && len(first) == registering {
			r.stop()
		}
		if allTrue(terminal, registering) {
			r.stop() // nothing left to wait for: every account gave up
		}
	}
	if err := r.finish(nil); err != nil {
		return &exitError{code: exitCodeFor(phone.FailureOf(err)), err: err}
	}
	if c.Once || allTrue(terminal, registering) || e.ctx.Err() == nil {
		// --once reports each account's first result; a run that ended because every account
		// gave up (a first REGISTER refused for its credentials) reports why.
		results := last
		if c.Once {
			results = first
		}
		for _, a := range cfg.Accounts {
			if s, ok := results[a.Name]; ok && s.State == phone.RegFailed {
				return &exitError{code: exitCodeFor(s.Failure), err: fmt.Errorf("%s: %s", s.Account, failureText(s))}
			}
		}
		if c.Once {
			for _, a := range cfg.Accounts {
				if _, ok := first[a.Name]; !ok {
					return onceInterrupted(a.Name)
				}
			}
		}
	}
	return nil
}

// onceInterrupted is `register --once` stopped before account had a first result: it did
// not register, which exit 0 would say it did. 4, as for a registrar that never answered.
func onceInterrupted(account string) error {
	return &exitError{code: exitNetwork, err: fmt.Errorf("%s: interrupted before the registrar answered", account)}
}

func allTrue(m map[string]bool, n int) bool {
	if len(m) < n {
		return false
	}
	for _, v := range m {
		if !v {
			return false
		}
	}
	return true
}

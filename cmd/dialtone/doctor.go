package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/config"
	"github.com/dialtone/dialtone/phone/diag"
)

// exitDoctorWarn is `dialtone doctor --strict`'s exit code when the worst finding is a warning.
const exitDoctorWarn = 6

// doctorCmd checks an account's whole path to its provider and prints one report.
type doctorCmd struct {
	Account    string        `arg:"" optional:"" help:"Account to check (default: the first)." placeholder:"ACCOUNT"`
	NoRegister bool          `name:"no-register" help:"Skip the REGISTER round trip (the other checks send nothing that changes the account)."`
	Timeout    time.Duration `help:"How long the REGISTER check waits for a final answer." default:"20s"`
	Strict     bool          `help:"Exit 6 when the worst finding is a warning (default: warnings exit 0)."`
}

// Run diagnoses one account. Exit code: 0 when nothing failed (warnings included, unless
// --strict: then 6), else the class of the first failed check: 2 config, 3 authentication,
// 4 network (DNS, unreachable, TLS), 5 refused.
func (c *doctorCmd) Run(e *env) error {
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	if len(cfg.Accounts) == 0 {
		return usageErr("no accounts: add one to the config file or pass --aor sip:user@domain")
	}
	acc := cfg.Accounts[0]
	if c.Account != "" {
		i := slices.IndexFunc(cfg.Accounts, func(a phone.Account) bool { return a.Name == c.Account })
		if i < 0 {
			return usageErr("doctor %s: no such account", c.Account)
		}
		acc = cfg.Accounts[i]
	}
	in, err := e.doctorInput(cfg, acc)
	if err != nil {
		return err
	}
	in.NoRegister, in.RegisterTimeout = c.NoRegister, c.Timeout
	started := nowFunc()
	rep := diag.Run(e.ctx, in)
	code := exitOK
	switch rep.Worst() {
	case diag.Fail:
		code = exitCodeFor(rep.WorstFailure())
	case diag.Warn:
		if c.Strict {
			code = exitDoctorWarn
		}
	}
	if err := writeDoctor(e.stdout, e.cli.JSON, rep, started, code); err != nil {
		return &exitError{code: exitInternal, err: fmt.Errorf("doctor: write report: %w", err)}
	}
	if e.ctx.Err() != nil {
		// The report is written and its exit_code is the process's: say only that it stops
		// where the signal came (exit 1 said "a bug").
		fmt.Fprintln(e.stderr, "dialtone: doctor: interrupted; the report covers the checks done before")
	}
	if code != exitOK {
		return &exitError{code: code} // the report said why; nothing more on stderr
	}
	return nil
}

// doctorInput gathers what the checks need that phone.Config does not carry: where the
// account's password comes from (never the password), the NAT and DNS servers, the CA file.
func (e *env) doctorInput(cfg phone.Config, acc phone.Account) (diag.Input, error) {
	f, err := e.loadConfig()
	if err != nil {
		return diag.Input{}, err
	}
	in := diag.Input{Account: acc, Config: cfg, ConfigPath: f.Path}
	var fa config.Account
	if e.cli.AOR != "" {
		in.ConfigPath = ""
		fa = config.Account{Name: acc.Name, PasswordEnv: "DIALTONE_PASSWORD", PasswordFile: e.cli.PasswordFile, PasswordCmd: e.cli.PasswordCmd}
		if fa.PasswordFile != "" || fa.PasswordCmd != "" {
			fa.PasswordEnv = ""
		}
	} else if i := slices.IndexFunc(f.Accounts, func(a config.Account) bool { return a.Name == acc.Name }); i >= 0 {
		fa = f.Accounts[i]
	}
	in.PasswordSource, in.PasswordProblem = passwordSource(e.ctx, fa)
	// phone.Config carries the flags and [sip] keys; the account's own keys and the flags are
	// read here as well so that the report names what is in effect.
	in.STUNServer = cmp.Or(acc.STUNServer, fa.STUNServer, cfg.STUNServer, e.cli.STUNServer, f.SIP.STUNServer)
	in.TURN = cmp.Or(acc.TURN, cfg.TURN)
	in.DNSServer = cmp.Or(cfg.DNSServer, e.cli.DNSServer, f.SIP.DNSServer)
	in.TLSCAFile = cmp.Or(e.cli.TLSCA, f.SIP.TLSCA)
	if in.Config.TLS == nil {
		if in.Config.TLS, err = e.tlsConfig(f); err != nil {
			return diag.Input{}, err
		}
	}
	return in, nil
}

// passwordSource names an account's password source and, for the sources that can be read
// without side effects (a variable, a file), whether they give a password. A password_cmd is
// not run here: it runs when the registrar challenges, in the REGISTER check.
func passwordSource(ctx context.Context, a config.Account) (source, problem string) {
	switch {
	case a.PasswordEnv != "":
		source = "password_env " + a.PasswordEnv
	case a.PasswordFile != "":
		source = "password_file " + a.PasswordFile
	case a.PasswordCmd != "":
		return "password_cmd (run at the first challenge)", ""
	case a.PasswordKeyring != "":
		return "password_keyring " + a.PasswordKeyring + " (read at the first challenge)", ""
	default:
		return "", ""
	}
	if _, err := a.Password(ctx); err != nil {
		return source, err.Error()
	}
	return source + " (set)", ""
}

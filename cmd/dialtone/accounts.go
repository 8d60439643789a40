package main

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/config"
)

// loadConfig reads the config file. With the ad-hoc --aor flag a missing file is fine.
func (e *env) loadConfig() (*config.File, error) {
	path := e.cli.Config
	explicit := path != ""
	if !explicit {
		p, err := config.DefaultPath()
		if err != nil {
			return nil, usageErr("config: %v", err)
		}
		path = p
	}
	f, err := config.Load(path)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		return &config.File{Path: path}, nil
	}
	return nil, usageErr("%v", err)
}

// phoneConfig turns the config file and the global flags into the core's Config. It is the
// only place that knows both.
func (e *env) phoneConfig() (phone.Config, error) {
	f, err := e.loadConfig()
	if err != nil {
		return phone.Config{}, err
	}
	for _, w := range f.FileWarnings() {
		e.log.Warn(w)
	}
	cfg := phone.Config{Logger: e.log, ListenAddr: f.SIP.Listen, UserAgent: f.SIP.UserAgent, MediaTap: e.mediaTap()}
	if e.cli.Listen != "" {
		cfg.ListenAddr = e.cli.Listen
	}
	if err := checkListen(cfg.ListenAddr); err != nil {
		what := "--listen"
		if e.cli.Listen == "" {
			what = "listen in " + f.Path
		}
		return phone.Config{}, usageErr("%s: %v", what, err)
	}
	if cfg.TLS, err = e.tlsConfig(f); err != nil {
		return phone.Config{}, err
	}
	if ports := cmp.Or(e.cli.RTPPorts, f.SIP.RTPPorts); ports != "" {
		if cfg.RTPPortMin, cfg.RTPPortMax, err = config.ParsePortRange(ports); err != nil {
			return phone.Config{}, usageErr("--rtp-ports: %v", err)
		}
	}
	if err := e.applyNetwork(f, &cfg); err != nil {
		return phone.Config{}, err
	}
	codecs, err := e.codecsFlag()
	if err != nil {
		return phone.Config{}, err
	}
	cfg.Codecs, cfg.MediaEncryption = codecs, e.cli.MediaEncryption
	if cfg.Ptime, err = e.ptimeFlag(); err != nil {
		return phone.Config{}, err
	}
	accounts := f.Accounts
	if e.cli.AOR != "" {
		a := config.Account{
			Name: "cli", AOR: e.cli.AOR, AuthUser: e.cli.AuthUser, DisplayName: e.cli.DisplayName,
			Registrar: e.cli.Registrar, OutboundProxy: e.cli.OutboundProxy, Transport: e.cli.Transport,
			Expires: e.cli.Expires, PasswordEnv: "DIALTONE_PASSWORD",
		}
		switch {
		case e.cli.PasswordFile != "" && e.cli.PasswordCmd != "":
			return phone.Config{}, usageErr("--password-file and --password-cmd are exclusive")
		case e.cli.PasswordFile != "":
			a.PasswordEnv, a.PasswordFile = "", e.cli.PasswordFile
		case e.cli.PasswordCmd != "":
			a.PasswordEnv, a.PasswordCmd = "", e.cli.PasswordCmd
		}
		if err := a.Validate(); err != nil {
			return phone.Config{}, usageErr("ad-hoc account (--aor): %v", err)
		}
		accounts = []config.Account{a}
	} else if e.cli.AuthUser != "" || e.cli.Registrar != "" || e.cli.OutboundProxy != "" || e.cli.Transport != "" || e.cli.PasswordFile != "" || e.cli.PasswordCmd != "" ||
		e.cli.DisplayName != "" || e.cli.Expires != 0 {
		return phone.Config{}, usageErr("the ad-hoc account flags need --aor")
	}
	for _, name := range e.cli.Account {
		if !slices.ContainsFunc(accounts, func(a config.Account) bool { return a.Name == name }) {
			return phone.Config{}, usageErr("--account %s: no such account in %s", name, f.Path)
		}
	}
	for _, a := range accounts {
		if len(e.cli.Account) > 0 && !slices.Contains(e.cli.Account, a.Name) {
			continue
		}
		t, err := phone.ParseTransport(a.Transport)
		if err != nil {
			return phone.Config{}, usageErr("account %s: %v", a.Name, err)
		}
		for _, w := range a.FileWarnings() {
			e.log.Warn(w, "account", a.Name)
		}
		pa := phone.Account{
			Name: a.Name, AOR: a.AOR, AuthUser: a.AuthUser, DisplayName: a.DisplayName,
			Registrar: a.Registrar, OutboundProxy: a.OutboundProxy, Transport: t,
			Expires:  time.Duration(a.Expires) * time.Second,
			Register: a.ShouldRegister(),
		}
		applyAccountNetwork(a, &pa)
		pa.Codecs, pa.MediaEncryption = a.Codecs, cmp.Or(e.cli.MediaEncryption, a.MediaEncryption)
		pa.Ptime = cmp.Or(cfg.Ptime, a.Ptime)
		if codecs != nil {
			pa.Codecs = codecs
		}
		if a.HasPassword() { // else a challenge fails as "no password source" (exit 2), not as a wrong password
			pa.Password = a.Password
		}
		cfg.Accounts = append(cfg.Accounts, pa)
	}
	return cfg, nil
}

// tlsConfig builds certificate verification from the system roots plus --tls-ca/tls_ca.
func (e *env) tlsConfig(f *config.File) (*tls.Config, error) {
	caFile, insecure := f.SIP.TLSCA, f.SIP.TLSInsecure || e.cli.TLSInsecure
	if e.cli.TLSCA != "" {
		caFile = e.cli.TLSCA
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if insecure {
		fmt.Fprintln(e.stderr, "dialtone: warning: TLS certificates are NOT verified (--tls-insecure); anyone on the path can read and change your calls")
		conf.InsecureSkipVerify = true
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usageErr("--tls-ca: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageErr("--tls-ca %s: no PEM certificate found", caFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/config"
)

// applyNetwork puts the NAT, keep-alive, media-timeout and DNS settings of the [sip] table
// and the global flags (which win) into cfg.
func (e *env) applyNetwork(f *config.File, cfg *phone.Config) error {
	var err error
	for _, s := range []struct{ flag, val string }{
		{"--stun-server", e.cli.STUNServer}, {"--turn-server", e.cli.TURNServer}, {"--dns-server", e.cli.DNSServer},
	} {
		if err := config.CheckServer(s.val); err != nil {
			return usageErr("%s: %v", s.flag, err)
		}
	}
	if e.cli.TURNServer == "" && (e.cli.TURNUser != "" || e.cli.TURNPasswordFile != "") {
		return usageErr("--turn-user and --turn-password-file need --turn-server")
	}
	if e.cli.TURNServer != "" && e.cli.TURNUser == "" {
		return usageErr("--turn-server needs --turn-user (TURN uses long-term credentials)")
	}
	if e.cli.TURNServer != "" && e.cli.TURNPasswordFile == "" && os.Getenv("DIALTONE_TURN_PASSWORD") == "" {
		return usageErr("--turn-server needs its password in --turn-password-file or $DIALTONE_TURN_PASSWORD")
	}
	cfg.STUNServer = cmp.Or(e.cli.STUNServer, f.SIP.STUNServer)
	cfg.DNSServer = cmp.Or(e.cli.DNSServer, f.SIP.DNSServer)
	cfg.DNDCode = f.SIP.DNDCode
	if w := config.ModeWarning(e.cli.TURNPasswordFile); w != "" {
		e.log.Warn("--turn-password-file " + w)
	}
	if e.cli.TURNServer != "" {
		cfg.TURN = &phone.TURNServer{Addr: e.cli.TURNServer, User: e.cli.TURNUser, Password: e.flagTURNPassword}
	} else {
		cfg.TURN = turnServer(f.SIP.NAT, filepath.Dir(f.Path))
	}
	if cfg.RTPTimeout, err = secondsOrFlag(e.cli.RTPTimeout, f.SIP.RTPTimeout, "--rtp-timeout"); err != nil {
		return err
	}
	if cfg.KeepAlive, err = secondsOrFlag(e.cli.KeepAlive, f.SIP.KeepAlive, "--keepalive"); err != nil {
		return err
	}
	return nil
}

// applyAccountNetwork gives an account its own NAT settings, when it has any.
func applyAccountNetwork(a config.Account, pa *phone.Account) {
	pa.STUNServer = a.STUNServer
	if a.TURNServer != "" {
		pa.TURN = turnServer(a.NAT, "")
		pa.TURN.Password = a.TURNPassword
	}
}

// turnServer is n's TURN relay, nil when it names none.
func turnServer(n config.NAT, dir string) *phone.TURNServer {
	if n.TURNServer == "" {
		return nil
	}
	return &phone.TURNServer{Addr: n.TURNServer, User: n.TURNUser, Password: func(ctx context.Context) (string, error) {
		return n.TURNPassword(ctx, dir)
	}}
}

// flagTURNPassword is the password for --turn-server: --turn-password-file, else
// $DIALTONE_TURN_PASSWORD.
func (e *env) flagTURNPassword(ctx context.Context) (string, error) {
	src := config.NAT{TURNPasswordEnv: "DIALTONE_TURN_PASSWORD"}
	if e.cli.TURNPasswordFile != "" {
		src = config.NAT{TURNPasswordFile: e.cli.TURNPasswordFile}
	}
	return src.TURNPassword(ctx, "")
}

// secondsOrFlag turns a flag ("30s", "off") or else a config value in seconds (0 default,
// -1 off) into the core's convention: 0 default, negative off.
func secondsOrFlag(flag string, seconds int, name string) (time.Duration, error) {
	switch strings.ToLower(strings.TrimSpace(flag)) {
	case "":
		return time.Duration(seconds) * time.Second, nil
	case "off", "never", "0":
		return -1, nil
	}
	d, err := time.ParseDuration(flag)
	if err != nil || d <= 0 {
		return 0, usageErr("%s: %q is not a positive duration (e.g. 30s) or off", name, flag)
	}
	if d < time.Second {
		// A keep-alive every nanosecond is a busy loop flooding the registrar, an RTP
		// timeout under a second hangs up on ordinary jitter.
		return 0, usageErr("%s: %q is under a second; give at least 1s, or off", name, flag)
	}
	return d, nil
}

// checkListen validates a local SIP address, ADDR:PORT with ADDR an IP address (or empty, for
// every interface) and PORT 0–65535, before anything binds it: a bad one is a usage error with
// the reason, not a network failure when the socket cannot be opened.
func checkListen(s string) error {
	if s == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not ADDR:PORT (an IPv6 address goes in brackets: [::1]:5060)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 0 to 65535", s)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: %q is not a local IP address", s, host)
		}
	}
	return nil
}

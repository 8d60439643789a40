package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNetworkFlagsBadInputExit2(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	t.Setenv("DIALTONE_TURN_PASSWORD", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"register", "--aor", "sip:a@b", "--stun-server", "bad host:99999"}, "--stun-server"},
		{[]string{"register", "--aor", "sip:a@b", "--turn-server", "turn.example.com"}, "--turn-user"},
		{[]string{"register", "--aor", "sip:a@b", "--turn-user", "u"}, "need --turn-server"},
		{[]string{"register", "--aor", "sip:a@b", "--turn-server", "turn.example.com", "--turn-user", "u"}, "$DIALTONE_TURN_PASSWORD"},
		{[]string{"register", "--aor", "sip:a@b", "--rtp-timeout", "soon"}, "--rtp-timeout"},
		{[]string{"register", "--aor", "sip:a@b", "--keepalive", "-5s"}, "--keepalive"},
		{[]string{"register", "--aor", "sip:a@b", "--keepalive", "1ns"}, "under a second"},
		{[]string{"register", "--aor", "sip:a@b", "--rtp-timeout", "300ms"}, "under a second"},
		{[]string{"register", "--aor", "sip:a@b", "--dns-server", "[::1"}, "--dns-server"},
	} {
		code, _, stderr := runArgs(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}

func TestSecondsOrFlag(t *testing.T) {
	for _, c := range []struct {
		flag    string
		seconds int
		want    time.Duration
	}{
		{"", 0, 0}, {"", 7, 7 * time.Second}, {"", -1, -time.Second}, {"off", 30, -1}, {"2s", 30, 2 * time.Second}, {"1m", 0, time.Minute},
	} {
		got, err := secondsOrFlag(c.flag, c.seconds, "--x")
		if err != nil || got != c.want {
			t.Errorf("secondsOrFlag(%q, %d) = %v, %v; want %v", c.flag, c.seconds, got, err, c.want)
		}
	}
}

// TestNetworkSettingsReachTheCore: flags win over [sip], accounts keep their own STUN and
// TURN, and the TURN passwords come from their sources.
func TestNetworkSettingsReachTheCore(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "turnpw"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgFile, []byte(`[sip]
stun_server = "stun.example.net"
turn_server = "turn.example.net:3479"
turn_user = "shared"
turn_password_file = "turnpw"
rtp_timeout = 12
keepalive = -1
dns_server = "127.0.0.53"
dnd_code = 603

[[account]]
name = "own"
aor = "sip:a@example.com"
stun_server = "203.0.113.7"
turn_server = "203.0.113.8"
turn_user = "mine"
turn_password_env = "MY_TURN_PW"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MY_TURN_PW", "envpw")
	e := &env{cli: &cli{Config: cfgFile}, log: slog.New(slog.DiscardHandler)}
	cfg, err := e.phoneConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.STUNServer != "stun.example.net" || cfg.RTPTimeout != 12*time.Second || cfg.KeepAlive >= 0 || cfg.DNSServer != "127.0.0.53" || cfg.DNDCode != 603 {
		t.Fatalf("[sip] settings: %+v", cfg)
	}
	if cfg.TURN == nil || cfg.TURN.Addr != "turn.example.net:3479" || cfg.TURN.User != "shared" {
		t.Fatalf("[sip] TURN: %+v", cfg.TURN)
	}
	if pw, err := cfg.TURN.Password(context.Background()); err != nil || pw != "s3cret" {
		t.Fatalf("[sip] turn_password_file beside the config: %q, %v", pw, err)
	}
	a := cfg.Accounts[0]
	if a.STUNServer != "203.0.113.7" || a.TURN == nil || a.TURN.User != "mine" {
		t.Fatalf("account NAT settings: %+v %+v", a, a.TURN)
	}
	if pw, err := a.TURN.Password(context.Background()); err != nil || pw != "envpw" {
		t.Fatalf("account turn_password_env: %q, %v", pw, err)
	}

	e = &env{cli: &cli{Config: cfgFile, STUNServer: "198.51.100.1:3478", RTPTimeout: "off", KeepAlive: "3s",
		TURNServer: "198.51.100.2", TURNUser: "flag", DNSServer: "127.0.0.1:5353"}, log: slog.New(slog.DiscardHandler)}
	t.Setenv("DIALTONE_TURN_PASSWORD", "flagpw")
	if cfg, err = e.phoneConfig(); err != nil {
		t.Fatal(err)
	}
	if cfg.STUNServer != "198.51.100.1:3478" || cfg.RTPTimeout >= 0 || cfg.KeepAlive != 3*time.Second || cfg.TURN.User != "flag" || cfg.DNSServer != "127.0.0.1:5353" {
		t.Fatalf("flags did not win: %+v %+v", cfg, cfg.TURN)
	}
	if pw, err := cfg.TURN.Password(context.Background()); err != nil || pw != "flagpw" {
		t.Fatalf("$DIALTONE_TURN_PASSWORD: %q, %v", pw, err)
	}

}

// TestPtimeFromConfigAndFlag: an account's ptime reaches its phone.Account, and --ptime sets
// the phone's and overrides every account's.
func TestPtimeFromConfigAndFlag(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgFile, []byte("[[account]]\nname = \"a\"\naor = \"sip:a@example.com\"\nptime = 40\n\n"+
		"[[account]]\nname = \"b\"\naor = \"sip:b@example.com\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{cli: &cli{Config: cfgFile}, log: slog.New(slog.DiscardHandler)}
	cfg, err := e.phoneConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ptime != 0 || cfg.Accounts[0].Ptime != 40 || cfg.Accounts[1].Ptime != 0 {
		t.Fatalf("ptime: phone %d, accounts %d and %d; want 0, 40, 0", cfg.Ptime, cfg.Accounts[0].Ptime, cfg.Accounts[1].Ptime)
	}
	e = &env{cli: &cli{Config: cfgFile, Ptime: 30}, log: slog.New(slog.DiscardHandler)}
	if cfg, err = e.phoneConfig(); err != nil {
		t.Fatal(err)
	}
	if cfg.Ptime != 30 || cfg.Accounts[0].Ptime != 30 || cfg.Accounts[1].Ptime != 30 {
		t.Fatalf("--ptime 30: phone %d, accounts %d and %d", cfg.Ptime, cfg.Accounts[0].Ptime, cfg.Accounts[1].Ptime)
	}
}

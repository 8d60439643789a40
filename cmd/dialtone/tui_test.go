package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/config"
	"github.com/dialtone/dialtone/ui"
)

func TestFirstRunSavesAccountWithoutThePassword(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dialtone", "config.toml")
	ph, err := phone.New(phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), cli: &cli{}}
	const secret = "s3cret-typed-in-the-form"
	err = e.saveFirstAccount(path, ui.NewAccount{Name: "work", AOR: "sip:alice@example.com", Transport: "tcp", PasswordPlain: secret}, ph)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secret) {
		t.Fatal("the password was written into the config file")
	}
	for _, p := range []string{path, filepath.Join(filepath.Dir(path), "work.password")} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v (%v), want 0600", p, st.Mode().Perm(), err)
		}
	}
	f, err := config.Load(path)
	if err != nil || len(f.Accounts) != 1 || f.Accounts[0].Transport != "tcp" {
		t.Fatalf("saved config %+v, %v", f, err)
	}
	if pw, err := f.Accounts[0].Password(context.Background()); err != nil || pw != secret {
		t.Fatalf("password source gives %q, %v", pw, err)
	}
	if !slices.Contains(ph.AccountNames(), "work") {
		t.Fatalf("the running phone did not get the account: %v", ph.AccountNames())
	}
}

// TestFirstRunRejectedLeavesNoPasswordBehind: a form the config refuses (an address without
// sip:) or a name that is a path ("../leak") writes no password file anywhere; each rejected
// attempt left a NAME.password beside the config, or outside it.
func TestFirstRunRejectedLeavesNoPasswordBehind(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "cfg", "dialtone", "config.toml")
	ph, err := phone.New(phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: context.Background(), cli: &cli{}}
	for _, a := range []ui.NewAccount{
		{Name: "work", AOR: "alice@example.com", Transport: "udp", PasswordPlain: "pw1"},
		{Name: "../leak", AOR: "sip:alice@example.com", Transport: "udp", PasswordPlain: "pw2"},
		{Name: "..", AOR: "sip:alice@example.com", Transport: "udp", PasswordPlain: "pw3"},
	} {
		if err := e.saveFirstAccount(path, a, ph); err == nil {
			t.Errorf("account %+v saved, want an error", a)
		}
	}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// TestLogPaneFollowsLogLevel: --log-level sets what the TUI's log pane shows (debug lines
// appeared nowhere, and error still showed info lines); info without it.
func TestLogPaneFollowsLogLevel(t *testing.T) {
	for flag, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "warn": slog.LevelWarn, "error": slog.LevelError} {
		e := &env{cli: &cli{LogLevel: flag}}
		h := &paneHandler{level: e.paneLevel()}
		for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			if got := h.Enabled(context.Background(), l); got != (l >= want) {
				t.Errorf("--log-level %q: pane shows %v: %v, want %v", flag, l, got, l >= want)
			}
		}
	}
}

// TestRedialOfAnEarlierEchoTest: the history's echo test of an earlier run (its peer lived in
// that process, on a loopback port now gone) redials as a new echo test; other addresses
// stay what they are.
func TestRedialOfAnEarlierEchoTest(t *testing.T) {
	for _, tc := range []struct {
		account, target string
		want            bool
	}{
		{"", "sip:echo@127.0.0.1:33845", true},
		{"", "sip:echo@[::1]:5060", true},
		{"office", "sip:echo@127.0.0.1:33845", false}, // through an account: someone's echo service
		{"", "sip:echo@192.0.2.7:5060", false},
		{"", "sip:bob@127.0.0.1:5060", false},
		{"", "echo", false},
	} {
		if got := isEchoPeer(tc.account, tc.target); got != tc.want {
			t.Errorf("isEchoPeer(%q, %q) = %v, want %v", tc.account, tc.target, got, tc.want)
		}
	}
}

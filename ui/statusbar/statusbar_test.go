package statusbar

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/styles"
)

func TestReason(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		s    phone.AccountStatus
		want string
	}{
		{phone.AccountStatus{Time: t0, Code: 401, Reason: "Unauthorized", Failure: phone.FailureAuth}, "401 Unauthorized (auth) stopped"},
		{phone.AccountStatus{Time: t0, Err: errors.New("i/o timeout"), Failure: phone.FailureNetwork, RetryIn: 90 * time.Second}, "i/o timeout (network) next try 12:01:30"},
		{phone.AccountStatus{Code: 503, RetryIn: time.Minute}, "503 next try in 1m0s"},
		{phone.AccountStatus{Reason: "bad\x1b[2Jreason"}, "bad\uFFFD[2Jreason stopped"},
	} {
		if got := Reason(c.s); got != c.want {
			t.Errorf("Reason(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

// An account added while running (the first-run form) appears after the configured ones.
func TestNewAccountJoins(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)), "", []string{"office"})
	m.SetSize(120, 1)
	m.Update(phone.Snapshot{Accounts: []phone.AccountStatus{{Account: "office", State: phone.Registered}}})
	m.Update(phone.AccountStatus{Account: "work", State: phone.Registering})
	v := ansi.Strip(m.View())
	if i, j := strings.Index(v, "office registered"), strings.Index(v, "work registering"); i < 0 || j < i {
		t.Errorf("status bar %q", v)
	}
}

// A lost TCP/TLS connection shows as recovering, with why, not as a failure.
func TestRecoveringShowsTheReason(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)), "", []string{"office"})
	m.SetSize(120, 1)
	m.Update(phone.AccountStatus{Account: "office", State: phone.Recovering, Reason: "the connection to the registrar was closed"})
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "◌ office recovering: the connection to the registrar was closed") || strings.Contains(v, "failed") {
		t.Errorf("status bar %q", v)
	}
}

// Voicemail waiting shows beside its account, with the count of new messages when the
// server gave one, from the snapshot or an event, and goes when none waits.
func TestVoicemailShowsBesideItsAccount(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, true)), "", []string{"home", "work"})
	m.SetSize(120, 1)
	m.Update(phone.Snapshot{Accounts: []phone.AccountStatus{{Account: "home", State: phone.Registered}, {Account: "work", State: phone.Registered}},
		Voicemail: []phone.Voicemail{{Account: "home", Waiting: true}}})
	m.Update(phone.Voicemail{Account: "work", Waiting: true, Counted: true, New: 2, Old: 8})
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "home registered  ☎ voicemail (home)") || !strings.Contains(v, "work registered  ☎ 2 new voicemail (work)") {
		t.Errorf("status bar %q: want home's voicemail and work's 2 new", v)
	}
	m.Update(phone.Voicemail{Account: "work", Counted: true, Old: 10})
	if v := ansi.Strip(m.View()); strings.Contains(v, "(work)") || !strings.Contains(v, "home registered  ☎ voicemail (home)") {
		t.Errorf("status bar %q: want work's voicemail gone, home's kept", v)
	}
}

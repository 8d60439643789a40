package main

import (
	"net"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone"
)

// TestBadTargetsAndAddressesAreUsageErrors: a malformed call target or local address is a usage
// error (exit 2) in one sentence that says what is wrong, before anything is sent or bound
// (issue 11: 'sip:bad uri' went to DNS and exited 4 with its error repeated inside itself;
// --listen 127.0.0.1:99999 was not checked).
func TestBadTargetsAndAddressesAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("XDG_DATA_HOME", dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"call", "sip:bad uri", "--audio", "null"}, `"bad uri" is not a host name or IP address`},
		{[]string{"call", "sip:a b@127.0.0.1", "--audio", "null"}, `user part "a b" has a space`},
		// Without --audio null on a machine without sound devices the target is still what is
		// named: it is checked before the devices are opened.
		{[]string{"call", "sip:bad uri", "--audio", "device"}, `"bad uri" is not a host name or IP address`},
		{[]string{"call", "sip:x@127.0.0.1", "--audio", "null", "--listen", "127.0.0.1:99999"}, "port must be a number from 0 to 65535"},
		{[]string{"answer", "--audio", "null", "--listen", "127.0.0.1"}, "is not ADDR:PORT"},
		{[]string{"register", "--aor", "sip:a@127.0.0.1", "--listen", "localhost-ish:5060"}, "is not a local IP address"},
		// Ad-hoc account flags without --aor were ignored without a word, unlike their siblings.
		{[]string{"register", "--display-name", "Alice"}, "need --aor"},
		{[]string{"register", "--expires", "60"}, "need --aor"},
		{[]string{"call", "sip:x@127.0.0.1", "--audio", "null", "--hangup-on-eof"}, "--hangup-on-eof needs --play"},
		{[]string{"call", "sip:x@127.0.0.1", "--audio", "null", "--ptime", "25"}, "--ptime: ptime 25 ms: want 10, 20, 30, 40, 50 or 60"},
		{[]string{"answer", "--audio", "null", "--ptime=-20"}, "--ptime: ptime -20 ms"},
	} {
		code, _, errOut := runArgs(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != exitUsage || len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line saying %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestCallErrorSaysItOnce: a failure the core wrapped on its way up ("call X: cannot resolve
// h: call X: cannot resolve h: lookup …") is printed once.
func TestCallErrorSaysItOnce(t *testing.T) {
	inner := &phone.Error{Op: "call sip:bob@h.invalid", Reason: "cannot resolve h.invalid", Failure: phone.FailureNetwork,
		Err: &net.DNSError{Err: "no such host", Name: "h.invalid"}}
	outer := &phone.Error{Op: inner.Op, Reason: inner.Reason, Failure: inner.Failure, Err: inner}
	err := callExit(phone.CallStatus{Peer: "sip:bob@h.invalid", Reason: inner.Reason, Failure: phone.FailureNetwork, Err: outer})
	msg := err.Error()
	if strings.Count(msg, "cannot resolve") != 1 || !strings.Contains(msg, "no such host") {
		t.Fatalf("error %q: want the reason once, with its detail", msg)
	}
	if ee, ok := err.(*exitError); !ok || ee.code != exitNetwork {
		t.Fatalf("error %#v, want exit %d", err, exitNetwork)
	}
}

package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// Faults (issue 11, item 4): how dialtone ends and what it keeps when it is stopped, killed,
// or cannot write its data directory.

// TestSignalMidCallHangsUpUnregistersAndKeepsHistory: SIGTERM or SIGINT during a call with
// audio flowing, both for `call` (dialtone calls baresip) and `answer` (baresip calls a
// registered dialtone): baresip gets a BYE, Kamailio keeps no binding for alice, the history
// has the call with its end (hung up locally), and the exit code is 0 (the call was answered
// and ended normally: README "Exit codes").
func TestSignalMidCallHangsUpUnregistersAndKeepsHistory(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"call", "answer"} {
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(cmd+"/"+sig.String(), func(t *testing.T) {
				t.Parallel()
				signalMidCall(t, cmd, sig)
			})
		}
	}
}

func signalMidCall(t *testing.T, cmd string, sig syscall.Signal) {
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dir := t.TempDir()
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	common := []string{"--json", "--audio", "null", "--record", rec, "--data-dir", dir}
	var alice *proc
	var bob *peers.Baresip
	if cmd == "call" {
		bob = peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
		alice = startDialtone(t, pw("alice"), append(append([]string{"call", "sip:bob@127.0.0.1"}, common...), adhoc(k, "udp", "alice")...)...)
	} else {
		alice = startDialtone(t, pw("alice"), append(append([]string{"answer", "--auto"}, common...), adhoc(k, "udp", "alice")...)...)
		alice.waitEvent("registered", 20*time.Second)
		if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 1 {
			t.Fatalf("before the call: bindings %v (%v), want 1", cs, err)
		}
		bob = peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 700})
		if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	alice.waitEvent("answered", 20*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(3 * time.Second) // let audio flow: the call itself, not a timing assertion
	alice.signal(sig)
	code, rest := alice.wait(20 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d after %v mid-call, want 0\n%s", code, sig, alice.transcript())
	}
	h, ok := findEvent(rest, "hangup")
	if !ok || h.str("by") != "local" {
		t.Errorf("hangup event %v (found %v): want one, by local", h, ok)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no BYE after %v: %v\n%s", sig, err, bob.Log())
	}
	if cmd == "answer" {
		if _, ok := findEvent(rest, "unregistered"); !ok {
			t.Errorf("no unregistered event after %v: %v", sig, names(rest))
		}
	}
	// `call` never registers (the INVITE carries credentials); `answer` must have removed its
	// binding: either way Kamailio keeps none.
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 0 {
		t.Fatalf("after %v: alice's bindings in Kamailio %v (%v), want none", sig, cs, err)
	}
	assertTone(t, rec, 700, 2) // audio flowed before the signal

	code, evs, p := runDialtone(t, 10*time.Second, nil, "history", "--calls", "--json", "--data-dir", dir)
	if code != 0 || len(evs) != 1 {
		t.Fatalf("history: exit %d, %d rows, want 1\n%s", code, len(evs), p.transcript())
	}
	c := evs[0]
	if c.name() != "call" || c.str("by") != "local" || c.num("duration") < 2 || !strings.Contains(c.str("peer"), "bob") {
		t.Fatalf("history row %v: want the call with bob, ended locally, ≥ 2 s long", c)
	}
	t.Logf("%s %v: exit %d, history %v", cmd, sig, code, c)
}

// TestKillDuringMessageBurstKeepsEveryAcknowledgedMessage: sipp sends 300 MESSAGEs at 300/s
// straight to a registered dialtone, which is killed (SIGKILL) after 30 of them arrived. The
// history then opens cleanly and holds every MESSAGE that got a 200: a 200 promises the
// message is stored.
func TestKillDuringMessageBurstKeepsEveryAcknowledgedMessage(t *testing.T) {
	t.Parallel()
	// killAfter is well inside the 100 MESSAGEs dialtone takes at once from all senders
	// (phone/message_limit.go), so the kill comes while they are still being stored.
	const total, rate, killAfter, budget = 300, 300, 30, 100
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	dir := t.TempDir()
	port := freeUDPPort(t)
	alice := startDialtone(t, pw("alice"), append([]string{"register", "--json", "--data-dir", dir,
		"--listen", fmt.Sprintf("127.0.0.1:%d", port)}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	burst := startMessageBurst(t, fmt.Sprintf("127.0.0.1:%d", port), total, rate)
	for i := 0; i < killAfter; i++ {
		alice.waitEvent("message_received", 20*time.Second)
	}
	if err := syscall.Kill(alice.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	acked := burst.wait(t, 60*time.Second)
	// dialtone stores a message, shows it, then answers 200 (so that messages sent one after
	// the other show in order: phone/message.go), and sipp's burst does not wait for answers:
	// a few of the messages shown may have been killed before their 200. Most were answered.
	if len(acked) < killAfter/2 {
		t.Fatalf("sipp saw only %d 200s for the %d messages dialtone showed", len(acked), killAfter)
	}
	if len(acked) >= budget {
		t.Fatalf("%d MESSAGEs got a 200, all dialtone takes at once: it was not killed mid-burst", len(acked))
	}

	// First read-only, as the killed process left it (its WAL not checkpointed: a read-only
	// reader must still see what the WAL holds), then as the next dialtone opens it.
	if why := readOnlyMountsUnavailable(t); why == "" {
		ro := startDialtoneOn(t, readOnlyDir{dir}, nil, "history", "--messages", "--json", "--limit", "1000", "--data-dir", dir)
		code, evs := ro.wait(10 * time.Second)
		if code != 0 {
			t.Fatalf("history of a read-only data directory after SIGKILL: exit %d\n%s", code, ro.transcript())
		}
		if lost := missing(acked, incomingTexts(evs)); len(lost) > 0 {
			t.Fatalf("read-only: %d of %d acknowledged messages not listed: %v", len(lost), len(acked), lost)
		}
		_, walErr := os.Stat(filepath.Join(dir, "history.db-wal"))
		t.Logf("read-only listing after SIGKILL: %d messages (WAL left by the killed process: %v)", len(incomingTexts(evs)), walErr == nil)
	} else {
		t.Logf("history not read through a read-only mount: %s", why)
	}
	code, evs, p := runDialtone(t, 10*time.Second, nil, "history", "--messages", "--json", "--limit", "1000", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("history after SIGKILL: exit %d\n%s", code, p.transcript())
	}
	stored := incomingTexts(evs)
	lost := missing(acked, stored)
	t.Logf("%d MESSAGEs sent at %d/s, %d got a 200, %d stored in the history after SIGKILL", total, rate, len(acked), len(stored))
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged messages are not in the history: %v", len(lost), len(acked), lost)
	}
}

// incomingTexts are the texts of the incoming messages that dialtone history listed.
func incomingTexts(evs []event) map[string]bool {
	stored := map[string]bool{}
	for _, e := range evs {
		if e.name() == "message" && e.str("direction") == "incoming" {
			stored[strings.TrimSpace(e.str("text"))] = true
		}
	}
	return stored
}

// missing are the bodies not in stored.
func missing(bodies []string, stored map[string]bool) []string {
	var lost []string
	for _, b := range bodies {
		if !stored[b] {
			lost = append(lost, b)
		}
	}
	return lost
}

// TestReadOnlyDataDirStillCalls: the data directory is read-only (a read-only bind mount in a
// private mount namespace: chmod does not stop root) → dialtone says on stderr that the
// history cannot be written, and the call to baresip is placed, answered, and ends with exit 0.
func TestReadOnlyDataDirStillCalls(t *testing.T) {
	t.Parallel()
	needReadOnlyMounts(t)
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	dir := t.TempDir()
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtoneOn(t, readOnlyDir{dir}, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--json",
		"--audio", "null", "--record", rec, "--duration", "3s", "--data-dir", dir}, adhoc(k, "udp", "alice")...)...)
	code, evs := alice.wait(40 * time.Second)
	if code != 0 {
		t.Fatalf("exit %d with a read-only data directory, want 0\n%s", code, alice.transcript())
	}
	if _, ok := findEvent(evs, "answered"); !ok {
		t.Fatalf("no answered event: %v", names(evs))
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	assertTone(t, rec, 700, 2)
	alice.mu.Lock()
	stderr := alice.stderr.String()
	alice.mu.Unlock()
	if !strings.Contains(stderr, "history") || !strings.Contains(strings.ToLower(stderr), "read-only") {
		t.Fatalf("stderr does not say the history cannot be written (read-only):\n%s", stderr)
	}
	t.Logf("stderr: %s", strings.TrimSpace(stderr))
}

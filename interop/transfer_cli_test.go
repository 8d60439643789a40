package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// Transfer through the dialtone binary: `call --stdin` as transferor, `answer` as
// transferee, `call` meeting bad REFERs and NOTIFYs from sipp.

// TestTransferBadInputFromSipp: sipp, in a call with `dialtone call`, sends REFERs and
// NOTIFYs that no transfer can come of (a garbage Refer-To, another scheme, none at all, a
// broken Replaces, a NOTIFY with no subscription, requests for no dialog); the scenario checks
// each refusal (400, 416, 400, 400, 481, 481, 481). The call goes on: dialtone hears its own
// tone echoed by sipp after all of them, and the call ends normally with sipp's BYE.
func TestTransferBadInputFromSipp(t *testing.T) {
	t.Parallel()
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: "testdata/sipp_uas_refer_bad.xml", RTPEcho: true})
	tone := makeTone(t, 900, 20, 8000)
	rec := filepath.Join(t.TempDir(), "echo.wav")
	code, evs, p := runDialtone(t, 40*time.Second, nil, "call", s.URI("transfer"), "--json", "--play", tone, "--record", rec)
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Messages())
	}
	if c, err := s.Wait(10 * time.Second); err != nil || c != 0 {
		t.Fatalf("sipp exit %d (%v): a response was not the expected one\n%s", c, err, s.Messages())
	}
	if h, _ := findEvent(evs, "hangup"); h.str("by") != "remote" {
		t.Errorf("hangup %v, want by remote (sipp's BYE at the end of the scenario)", h)
	}
	if _, ok := findEvent(evs, "transfer"); ok {
		t.Error("a transfer event for requests that started no transfer")
	}
	assertTone(t, rec, 900, 2) // the echo: media went on through the bad requests
}

// TestCallStdinTransferThroughKamailio: alice (`dialtone call --stdin`, registered at
// Kamailio) calls bob and types "transfer sip:carol@127.0.0.1"; the REFER and NOTIFYs go
// through the proxy (record-routed), bob calls carol through it, dialtone prints the
// transfer's progress up to "final":true with 200, hangs up and exits 0; bob and carol hear
// each other.
func TestCallStdinTransferThroughKamailio(t *testing.T) {
	t.Parallel()
	us := map[string]string{"alice": users["alice"], "bob": users["bob"], "carol": "carol-secret"}
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: us})
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: us["bob"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 700})
	carol := peers.StartBaresip(t, peers.BaresipOptions{User: "carol", Password: us["carol"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 1100})
	tone := makeTone(t, 1300, 60, 8000)
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	p, in := startWithStdin(t, pw("alice"), append([]string{"call", "sip:bob@127.0.0.1", "--stdin", "--json", "--play", tone, "--record", rec}, adhoc(k, "udp", "alice")...)...)
	id := p.waitEvent("answered", 20*time.Second).str("call_id")
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("bob: %v", err)
	}
	time.Sleep(2 * time.Second) // alice and bob talk first
	say(t, in, "transfer sip:carol@127.0.0.1")
	if r := p.waitReply("transfer", 35*time.Second); r["ok"] != true || r.str("call_id") != id {
		t.Fatalf("transfer: %v\n%s", r, p.transcript())
	}
	var fin event
	for fin == nil {
		e := p.waitEvent("transfer", 30*time.Second)
		if e["final"] == true {
			fin = e
		}
	}
	if fin.num("code") != 200 || fin.str("call_id") != id {
		t.Fatalf("final transfer event %v\nbob:\n%s", fin, bob.Log())
	}
	if h := p.waitEvent("hangup", 10*time.Second); h.str("by") != "local" {
		t.Errorf("hangup %v, want by local", h)
	}
	if code, _ := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.transcript())
	}
	if _, err := carol.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		t.Fatalf("carol: %v\nbob:\n%s", err, bob.Log())
	}
	time.Sleep(4 * time.Second) // bob and carol talk
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*peers.Baresip{carol, bob, bob} { // bob: the call with alice, then carol's
		if _, err := x.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	assertTone(t, rec, 700, 1.5)         // alice heard bob before the transfer
	assertBaresipHeard(t, carol, 700, 1) // carol heard bob
	recs, err := bob.Recordings()
	if err != nil || len(recs) < 2 {
		t.Fatalf("bob's recordings %v %v", recs, err)
	}
	if s := toneSeconds(t, recs[len(recs)-1], 1100); s < minToneSeconds {
		t.Fatalf("bob heard carol for only %.2f s", s)
	}
}

// TestAnswerFollowsTransfer: `dialtone answer --auto` takes baresip A's call; A transfers it
// to baresip B. dialtone prints the new call taking the old one's place ("replaced"), keeps
// its audio (the --record file goes on with B's tone) and exits 0 when B hangs up: the
// transferred call counts as the one call answered.
func TestAnswerFollowsTransfer(t *testing.T) {
	t.Parallel()
	a := peers.StartBaresip(t, peers.BaresipOptions{User: "a", ToneHz: 700})
	b := peers.StartBaresip(t, peers.BaresipOptions{User: "b", AutoAnswer: true, ToneHz: 1100})
	tone := makeTone(t, 1300, 60, 8000)
	rec := filepath.Join(t.TempDir(), "heard.wav")
	d := startDialtone(t, nil, "answer", "--auto", "--count", "1", "--json", "--listen", "127.0.0.1:0", "--play", tone, "--record", rec)
	addr := d.waitEvent("listening", 15*time.Second).str("addr")
	if err := a.Dial("sip:dialtone@" + addr); err != nil {
		t.Fatal(err)
	}
	old := d.waitEvent("answered", 15*time.Second).str("call_id")
	if _, err := a.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, a.Log())
	}
	time.Sleep(2 * time.Second)
	if _, err := a.Command("transfer", b.AOR()); err != nil {
		t.Fatalf("baresip transfer: %v", err)
	}
	r := d.waitEvent("replaced", 20*time.Second)
	if r.str("call_id") != old || r.str("new_call_id") == "" || r.str("new_call_id") == old {
		t.Fatalf("replaced event %v", r)
	}
	if _, err := b.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("B: %v\n%s", err, d.transcript())
	}
	time.Sleep(3 * time.Second) // dialtone and B talk
	if err := b.Hangup(); err != nil {
		t.Fatal(err)
	}
	if code, _ := d.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, d.transcript())
	}
	assertTone(t, rec, 700, 1.5)  // A before the transfer
	assertTone(t, rec, 1100, 1.5) // B after it, in the same recording
	assertBaresipHeard(t, b, 1300, 1)
}

// TestTransfereeCallsThroughItsAccount: alice (`dialtone answer`, registered at Kamailio)
// is transferred by bob to carol (sip:carol@127.0.0.1): the new call goes out through
// alice's account (Kamailio routes it to carol's registration), carol answers, and alice and
// carol hear each other.
func TestTransfereeCallsThroughItsAccount(t *testing.T) {
	t.Parallel()
	us := map[string]string{"alice": users["alice"], "bob": users["bob"], "carol": "carol-secret"}
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: us})
	tone := makeTone(t, 1300, 60, 8000)
	rec := filepath.Join(t.TempDir(), "heard.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--count", "1", "--json", "--play", tone, "--record", rec}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: us["bob"], Registrar: k.HostPort("udp"), ToneHz: 700})
	carol := peers.StartBaresip(t, peers.BaresipOptions{User: "carol", Password: us["carol"], Registrar: k.HostPort("udp"), AutoAnswer: true, ToneHz: 1100})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("bob: %v", err)
	}
	time.Sleep(2 * time.Second)
	if _, err := bob.Command("transfer", "sip:carol@127.0.0.1"); err != nil {
		t.Fatalf("baresip transfer: %v", err)
	}
	r := alice.waitEvent("replaced", 20*time.Second)
	if _, err := carol.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("carol: %v\n%s", err, alice.transcript())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("bob's call with alice did not end: %v", err)
	}
	time.Sleep(3 * time.Second) // alice and carol talk
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	if code, _ := alice.wait(20 * time.Second); code != 0 {
		t.Fatalf("answer exit %d\n%s", code, alice.transcript())
	}
	placed := false // the transfer's call, placed through alice's account
	for _, line := range strings.Split(alice.transcript(), "\n") {
		if strings.Contains(line, `"event":"calling"`) && strings.Contains(line, `"account":"cli"`) && strings.Contains(line, "carol") {
			placed = true
		}
	}
	if !placed {
		t.Errorf("no outgoing call to carol through the account:\n%s", alice.transcript())
	}
	t.Logf("replaced %v", r)
	assertTone(t, rec, 1100, 1.5) // alice heard carol
	assertBaresipHeard(t, carol, 1300, 1)
}

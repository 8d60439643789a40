package interop

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// TestFarEndVanishesMidCall: baresip calls `dialtone answer`, audio flows, then baresip is
// killed (SIGKILL: no BYE, no RTCP BYE). dialtone notices the silence and hangs up after
// --rtp-timeout with failure "media" and exit 14, instead of staying in the call forever
// (issue 11). The hangup event follows the BYE attempt to the dead peer (5 s at most).
func TestFarEndVanishesMidCall(t *testing.T) {
	t.Parallel()
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: users})
	rec := filepath.Join(t.TempDir(), "from-bob.wav")
	alice := startDialtone(t, pw("alice"), append([]string{"answer", "--auto", "--json", "--audio", "null", "--record", rec,
		"--rtp-timeout", "3s"}, adhoc(k, "udp", "alice")...)...)
	alice.waitEvent("registered", 20*time.Second)
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", Password: users["bob"], Registrar: k.HostPort("udp"), ToneHz: 600})
	if err := bob.Dial("sip:alice@127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("answered", 15*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	time.Sleep(2 * time.Second) // let audio flow: the call itself, not a timing assertion
	if err := syscall.Kill(bob.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	h := alice.waitEvent("hangup", 20*time.Second)
	if h.str("failure") != "media" || h.str("by") != "local" {
		t.Errorf("hangup %v: want failure media, by local", h)
	}
	took := time.Since(killed)
	t.Logf("hung up %v after the far end was killed: %s", took.Round(100*time.Millisecond), h.str("reason"))
	// 3 s of silence, the once-a-second check, then at most 2 s for the BYE nobody answers
	// (it was 5 s: the user waited 9 s for a call that was long over), and slack for load.
	if took > 8*time.Second {
		t.Errorf("hung up %v after the kill: want the RTP timeout plus at most the 2 s BYE to a silent peer", took.Round(100*time.Millisecond))
	}
	if code, _ := alice.wait(20 * time.Second); code != 14 {
		t.Fatalf("answer exit %d, want 14 (media lost)\n%s", code, alice.transcript())
	}
	assertTone(t, rec, 600, 1) // the call had audio before the far end vanished
}

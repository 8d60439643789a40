package interop

import (
	"syscall"
	"testing"
	"time"
)

// TestVoicemailFromTheRegistrar: a registrar that reports voicemail as Asterisk does
// (unsolicited NOTIFY of message-summary to the Contact registered) gets 200 for each, and
// `dialtone register --json` prints a voicemail event for each change: 2 new (1 urgent) and 8
// old with the mailbox's URI, then nothing waiting. Before, each NOTIFY got 481 and nothing
// was shown.
func TestVoicemailFromTheRegistrar(t *testing.T) {
	t.Parallel()
	s, p := registerWithSipp(t, "uas_register_mwi.xml")
	v := p.waitEvent("voicemail", 10*time.Second)
	if v.str("account") == "" || v["waiting"] != true || v.num("new") != 2 || v.num("old") != 8 || v.num("urgent_new") != 1 ||
		v.str("message_account") != "sip:*97@127.0.0.1" {
		t.Fatalf("voicemail event %v: want waiting, 2 new (1 urgent), 8 old, mailbox sip:*97@127.0.0.1\n%s", v, s.Messages())
	}
	v = p.waitEvent("voicemail", 10*time.Second)
	if v["waiting"] != false || v.num("new") != 0 || v.num("old") != 10 || v.num("urgent_old") != 1 {
		t.Fatalf("second voicemail event %v: want nothing waiting, 0 new, 10 old (1 urgent)", v)
	}
	if sc, err := s.Wait(10 * time.Second); err != nil || sc != 0 {
		t.Fatalf("sipp exit %d (%v): a NOTIFY was not answered 200\n%s", sc, err, s.Messages())
	}
	p.signal(syscall.SIGINT)
	if code, _ := p.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0\n%s", code, p.transcript())
	}
}

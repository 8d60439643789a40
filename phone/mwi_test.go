package phone

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestParseMessageSummary: RFC 3842's body as Asterisk and others write it, and what is refused.
func TestParseMessageSummary(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       Voicemail
		bad        bool
	}{
		{"Asterisk", "Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx.example.com\r\nVoice-Message: 2/8 (0/2)\r\n",
			Voicemail{Waiting: true, MessageAccount: "sip:*97@pbx.example.com", Counted: true, New: 2, Old: 8, UrgentOld: 2}, false},
		{"none waiting", "Messages-Waiting: no\r\nVoice-Message: 0/3\r\n", Voicemail{Counted: true, Old: 3}, false},
		{"only the status, LF lines, other case", "messages-waiting:YES\n", Voicemail{Waiting: true}, false},
		{"other classes and headers skipped", "Messages-Waiting: yes\r\nFax-Message: 1/0\r\nVoice-Message: 1/0\r\n\r\nTo: <sip:a@b>\r\nSubject: hi\r\n",
			Voicemail{Waiting: true, Counted: true, New: 1}, false},
		{"spaces", "Messages-Waiting : yes\r\nVoice-Message:  3 / 4  ( 1 / 0 )\r\n", Voicemail{Waiting: true, Counted: true, New: 3, Old: 4, UrgentNew: 1}, false},
		{"no status", "Voice-Message: 1/0\r\n", Voicemail{}, true},
		{"a status neither yes nor no", "Messages-Waiting: maybe\r\n", Voicemail{}, true},
		{"a count that is no number", "Messages-Waiting: yes\r\nVoice-Message: x/1\r\n", Voicemail{}, true},
		{"a negative count", "Messages-Waiting: yes\r\nVoice-Message: -1/1\r\n", Voicemail{}, true},
		{"a huge count", "Messages-Waiting: yes\r\nVoice-Message: 99999999999/1\r\n", Voicemail{}, true},
		{"no slash", "Messages-Waiting: yes\r\nVoice-Message: 3\r\n", Voicemail{}, true},
		{"no closing parenthesis", "Messages-Waiting: yes\r\nVoice-Message: 1/2 (0/1\r\n", Voicemail{}, true},
		{"too long", "Messages-Waiting: yes\r\n" + strings.Repeat("X-Pad: y\r\n", 500), Voicemail{}, true},
		{"long message headers after the summary", "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n\r\n" + strings.Repeat("Voice-Message: 9/9\r\n", 500),
			Voicemail{Waiting: true, Counted: true, New: 1}, false},
		{"a second Voice-Message line read afresh", "Messages-Waiting: yes\r\nVoice-Message: 1/0 (1/0)\r\nVoice-Message: 2/0\r\n",
			Voicemail{Waiting: true, Counted: true, New: 2}, false},
	} {
		got, err := parseMessageSummary([]byte(c.body))
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("%s: %+v, %v; want %+v (refused: %v)", c.name, got, err, c.want, c.bad)
		}
	}
}

// FuzzParseMessageSummary: any body is read or refused, without a panic; what is read holds
// counts in range and reads the same again when written back as RFC 3842 says.
func FuzzParseMessageSummary(f *testing.F) {
	f.Add([]byte("Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx\r\nVoice-Message: 2/8 (0/2)\r\n"))
	f.Add([]byte("Messages-Waiting: no\n"))
	f.Add([]byte("Messages-Waiting: yes\r\nVoice-Message: 1/0 (1/0)\r\n\r\nSubject: x: y\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := parseMessageSummary(body)
		if err != nil {
			return
		}
		for _, n := range []int{v.New, v.Old, v.UrgentNew, v.UrgentOld} {
			if n < 0 || n > maxMessageCount {
				t.Fatalf("a count out of range: %+v", v)
			}
		}
		again := "Messages-Waiting: no\r\n"
		if v.Waiting {
			again = "Messages-Waiting: yes\r\n"
		}
		if v.Counted {
			again += "Voice-Message: " + strconv.Itoa(v.New) + "/" + strconv.Itoa(v.Old) + " (" + strconv.Itoa(v.UrgentNew) + "/" + strconv.Itoa(v.UrgentOld) + ")\r\n"
		}
		w, err := parseMessageSummary([]byte(again))
		v.MessageAccount = ""
		if err != nil || w != v {
			t.Fatalf("%+v written back as %q read %+v, %v", v, again, w, err)
		}
	})
}

var mwiSeq atomic.Int64 // Call-IDs of the test's NOTIFYs

// notifySummary sends an unsolicited NOTIFY of the message-summary event to addr for user,
// with body as contentType, and returns the answer.
func notifySummary(t *testing.T, addr, user, contentType, body string) *sip.Response {
	t.Helper()
	return notifySummaryTo(t, addr, user, "", contentType, body)
}

// notifySummaryTo is notifySummary with a To tag (none when "").
func notifySummaryTo(t *testing.T, addr, user, toTag, contentType, body string) *sip.Response {
	t.Helper()
	req := peerRequest(sip.NOTIFY, addr, "asterisk", "mwi1", user, toTag, fmt.Sprintf("mwi-%s-%d", user, mwiSeq.Add(1)), 1)
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Subscription-State", "active"))
	if contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody([]byte(body))
	return doRequest(t, testClient(t), req)
}

// TestVoicemailNotify: the server's unsolicited NOTIFY of message-summary gets 200 and a
// Voicemail event for the account it names (by the Request-URI's user), once per change;
// the snapshot keeps the last. A wrong body type gets 415 with Accept, a bad body 400, one for
// a user of no account (with several accounts, or none) 481, a flood 503; none of them
// changes what is shown. Before, every one got 481.
func TestVoicemailNotify(t *testing.T) {
	pw := func(context.Context) (string, error) { return "x", nil }
	p, addr, events := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{
		{Name: "home", AOR: "sip:alice@127.0.0.1", Registrar: "sip:127.0.0.1:9", Password: pw},
		{Name: "work", AOR: "sip:bob@127.0.0.1", Registrar: "sip:127.0.0.1:9", Password: pw},
	}})
	const summary = "Messages-Waiting: yes\r\nMessage-Account: sip:*97@127.0.0.1\r\nVoice-Message: 2/8 (1/0)\r\n"
	if res := notifySummary(t, addr, "bob", "application/simple-message-summary", summary); res.StatusCode != 200 {
		t.Fatalf("NOTIFY answered %d %s, want 200", res.StatusCode, res.Reason)
	}
	v := waitVoicemail(t, events)
	if v.Account != "work" || !v.Waiting || !v.Counted || v.New != 2 || v.Old != 8 || v.UrgentNew != 1 || v.MessageAccount != "sip:*97@127.0.0.1" {
		t.Fatalf("voicemail event %+v: want work's 2 new (1 urgent), 8 old", v)
	}
	for _, c := range []struct {
		ct, body string
		code     int
	}{
		{"application/simple-message-summary", summary, 200}, // the same again: no event
		{"text/plain", summary, 415},
		{"application/simple-message-summary", "Messages-Waiting: perhaps\r\n", 400},
	} {
		res := notifySummary(t, addr, "bob", c.ct, c.body)
		if int(res.StatusCode) != c.code || c.code == 415 && res.GetHeader("Accept") == nil {
			t.Fatalf("NOTIFY (%s) answered %d %s, want %d", c.ct, res.StatusCode, res.Reason, c.code)
		}
	}
	if res := notifySummary(t, addr, "alice", "application/simple-message-summary", "Messages-Waiting: no\r\n"); res.StatusCode != 200 {
		t.Fatalf("NOTIFY for alice answered %d", res.StatusCode)
	}
	if v := waitVoicemail(t, events); v.Account != "home" || v.Waiting || v.Counted {
		t.Fatalf("the next event %+v: want home's, nothing waiting (no repeat of work's)", v)
	}
	// A To tag (some servers send one), Content-Type parameters mime cannot read, an empty
	// NOTIFY: taken; the last changes nothing.
	if res := notifySummaryTo(t, addr, "bob", "srv-tag", `application/simple-message-summary; charset="UTF-8"; x`,
		"Messages-Waiting: yes\r\nVoice-Message: 3/8\r\n"); res.StatusCode != 200 {
		t.Fatalf("NOTIFY with a To tag and odd parameters answered %d %s, want 200", res.StatusCode, res.Reason)
	}
	if v := waitVoicemail(t, events); v.Account != "work" || v.New != 3 {
		t.Fatalf("event %+v: want work's 3 new", v)
	}
	if res := notifySummary(t, addr, "bob", "", ""); res.StatusCode != 200 {
		t.Fatalf("an empty NOTIFY answered %d, want 200", res.StatusCode)
	}
	// Nobody of ours: refused, and shown on no account.
	if res := notifySummary(t, addr, "carol", "application/simple-message-summary", summary); res.StatusCode != 481 {
		t.Fatalf("NOTIFY for a user of no account answered %d, want 481", res.StatusCode)
	}
	snap := p.Snapshot().Voicemail
	if len(snap) != 2 || snap[0].Account != "home" || snap[1].Account != "work" || snap[1].New != 3 {
		t.Fatalf("snapshot voicemail %+v: want home's, then work's 3 new", snap)
	}
	select {
	case ev := <-events:
		if v, ok := ev.(Voicemail); ok {
			t.Fatalf("an event for the empty NOTIFY or carol's: %+v", v)
		}
	default:
	}
	// Junk costs nothing: after 2×mwiBurst refused NOTIFYs, alice's next report is taken.
	for range 2 * mwiBurst {
		if res := notifySummary(t, addr, "alice", "text/plain", "junk"); res.StatusCode != 415 {
			t.Fatalf("junk answered %d, want 415", res.StatusCode)
		}
	}
	// A flood of changes: alice changed once already, so the burst's last is the 9th here;
	// the 10th gets 503 with Retry-After, and what is shown stays the 9th.
	for i := 1; i <= mwiBurst; i++ {
		res := notifySummary(t, addr, "alice", "application/simple-message-summary", fmt.Sprintf("Messages-Waiting: yes\r\nVoice-Message: %d/0\r\n", i))
		want := 200
		if i == mwiBurst {
			want = 503
		}
		if int(res.StatusCode) != want {
			t.Fatalf("change %d answered %d, want %d", i, res.StatusCode, want)
		}
		if want == 503 {
			if ra := res.GetHeader("Retry-After"); ra == nil || ra.Value() == "0" {
				t.Fatalf("503 with Retry-After %v: want a wait", ra)
			}
		}
	}
	if snap := p.Snapshot().Voicemail; len(snap) != 2 || snap[0].New != mwiBurst-1 {
		t.Fatalf("alice's voicemail shown %+v: want the %dth change's %d new", snap, mwiBurst-1, mwiBurst-1)
	}

	// With a single account, a NOTIFY naming another user is that account's: it reached the
	// Contact the account registered.
	_, one, oneEv := runPhone(t, Config{KeepAlive: -1, Accounts: []Account{
		{Name: "only", AOR: "sip:dave@127.0.0.1", Registrar: "sip:127.0.0.1:9", Password: pw}}})
	if res := notifySummary(t, one, "voicemail-box", "application/simple-message-summary", summary); res.StatusCode != 200 {
		t.Fatalf("NOTIFY to the only account answered %d, want 200", res.StatusCode)
	}
	if v := waitVoicemail(t, oneEv); v.Account != "only" || v.New != 2 {
		t.Fatalf("event %+v: want the only account's 2 new", v)
	}

	_, bare, _ := runPhone(t, Config{})
	if res := notifySummary(t, bare, "alice", "application/simple-message-summary", summary); res.StatusCode != 481 {
		t.Fatalf("a phone without accounts answered %d, want 481", res.StatusCode)
	}
}

func waitVoicemail(t *testing.T, events <-chan Event) Voicemail {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if v, ok := ev.(Voicemail); ok {
				return v
			}
		case <-deadline:
			t.Fatal("no voicemail event")
		}
	}
}

// TestVoicemailSummary: the four ways a report reads, the mailbox after.
func TestVoicemailSummary(t *testing.T) {
	for _, c := range []struct {
		v    Voicemail
		want string
	}{
		{Voicemail{Waiting: true, Counted: true, New: 2, Old: 8, UrgentNew: 1, MessageAccount: "sip:*97@pbx"}, "voicemail waiting: 2 new (1 urgent), 8 old; mailbox sip:*97@pbx"},
		{Voicemail{Counted: true, Old: 3}, "voicemail: 0 new, 3 old"},
		{Voicemail{Waiting: true}, "voicemail waiting"},
		{Voicemail{}, "no new voicemail"},
	} {
		if got := c.v.Summary(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
}

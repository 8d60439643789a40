package phone

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestMessageLimitBudget: a sender has msgPeerBurst messages at once and msgPeerRate a second
// after that, all senders together msgAllBurst and msgAllRate; a refusal says how long until
// the next one is taken; the log gets one report when refusals start and a count a minute
// later at most, however many senders a flood makes up; and the senders kept stay bounded.
func TestMessageLimitBudget(t *testing.T) {
	var l messageLimit
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := start
	for i := range msgPeerBurst {
		if ok, _, _, _ := l.allow("sip:a@x", now); !ok {
			t.Fatalf("message %d of a burst refused", i+1)
		}
	}
	ok, wait, warn, _ := l.allow("sip:a@x", now)
	if ok || wait != time.Second/msgPeerRate || warn != 1 {
		t.Fatalf("over the burst: ok %v, wait %v, warn %d; want refused, %v, a report of 1", ok, wait, warn, time.Second/msgPeerRate)
	}
	if _, _, warn, _ := l.allow("sip:a@x", now); warn != 0 {
		t.Fatal("a second report in the same minute")
	}
	if ok, _, _, _ := l.allow("sip:b@x", now); !ok {
		t.Fatal("another sender refused for the first one's flood")
	}
	now = now.Add(time.Second / msgPeerRate)
	if ok, _, _, _ := l.allow("sip:a@x", now); !ok {
		t.Fatal("refused after the wait it was told")
	}
	// All senders together: the rest of the shared budget goes to new senders, then they too
	// are refused.
	taken, reports := 0, 0
	for i := range 3 * msgPeersKept {
		ok, _, warn, _ := l.allow(fmt.Sprintf("sip:u%d@x", i), now)
		if ok {
			taken++
		}
		if warn > 0 {
			reports++
		}
	}
	if reports != 0 {
		t.Fatalf("%d reports within the minute from made-up senders", reports)
	}
	// A minute on, the shared budget is full again; the first refusal once it is spent reports
	// all the refusals since the last report.
	before := 3*msgPeersKept - taken + 1 // and a's second refusal, after the first report
	later, report, since := now.Add(msgWarnEvery), 0, time.Time{}
	for i := 0; report == 0 && i < 2*msgAllBurst; i++ {
		_, _, report, since = l.allow(fmt.Sprintf("sip:v%d@x", i), later)
	}
	if report != before+1 || !since.Equal(start) {
		t.Fatalf("the report a minute on counts %d refusals since %v, want the %d since the last report at %v and this one", report, since, before, start)
	}
	// The shared budget: all of it, less a's burst and b's one, plus what half a second refilled,
	// less a's one after its wait.
	if want := msgAllBurst - (msgPeerBurst + 1) + msgAllRate/msgPeerRate - 1; taken != want {
		t.Fatalf("%d new senders' messages taken, want the %d left of the shared budget", taken, want)
	}
	if len(l.peers) > msgPeersKept {
		t.Fatalf("%d senders kept, at most %d", len(l.peers), msgPeersKept)
	}
}

// TestMessageFloodRefused: a sender that sends more MESSAGEs at once than its budget gets 480
// with a Retry-After for the rest, which are neither shown nor kept; another sender's goes
// through. They were all stored and shown: a flood filled the disk and the message list.
func TestMessageFloodRefused(t *testing.T) {
	_, addr, events := runPhone(t, Config{})
	c := testClient(t)
	send := func(from string, n int) *sip.Response {
		req := peerRequest(sip.MESSAGE, addr, from, fmt.Sprintf("t%d", n), "me", "", fmt.Sprintf("flood-%s-%d", from, n), 1)
		ct := sip.ContentTypeHeader("text/plain")
		req.AppendHeader(&ct)
		req.SetBody([]byte(fmt.Sprintf("message %d", n)))
		return doRequest(t, c, req)
	}
	start := time.Now()
	const sent = msgPeerBurst + 20
	ok, refused, firstRefused := 0, 0, -1
	for i := range sent {
		switch res := send("flood", i); res.StatusCode {
		case 200:
			ok++
		case 480:
			refused++
			if firstRefused < 0 {
				firstRefused = i
			}
			if h := res.GetHeader("Retry-After"); h == nil || h.Value() == "" || h.Value() == "0" {
				t.Fatalf("480 without a Retry-After: %v", h)
			}
		default:
			t.Fatalf("MESSAGE %d answered %d", i, res.StatusCode)
		}
	}
	// The budget refills at msgPeerRate a second while the test sends.
	most := msgPeerBurst + int(time.Since(start).Seconds()*msgPeerRate) + 1
	if ok < msgPeerBurst || ok > most || ok+refused != sent {
		t.Fatalf("%d taken and %d refused of %d; want %d to %d taken, the rest refused", ok, refused, sent, msgPeerBurst, most)
	}
	if res := send("friend", 0); res.StatusCode != 200 {
		t.Fatalf("another sender's MESSAGE answered %d during the flood", res.StatusCode)
	}
	// A refused message sent again once the budget allows (a new branch, as a client retrying
	// after the Retry-After does) is taken and shown: the refusal did not mark it as seen.
	time.Sleep(time.Second + time.Second/msgPeerRate)
	if res := send("flood", firstRefused); res.StatusCode != 200 {
		t.Fatalf("a refused MESSAGE sent again after its Retry-After answered %d", res.StatusCode)
	}
	shown := 0
	for deadline := time.After(2 * time.Second); ; {
		select {
		case ev := <-events:
			if _, is := ev.(Message); is {
				shown++
			}
			continue
		case <-deadline:
		}
		break
	}
	if shown != ok+2 {
		t.Fatalf("%d messages shown, want the %d taken", shown, ok+2)
	}
}

package phone

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRecentMessagesBounded: a flood of distinct MESSAGEs with no store keeps at most
// maxRecentMessages keys (it kept every one for a minute, and scanned them all for each new
// one: 1 ms a message at 60 000), while a retransmission within the minute is still known and
// an old key is forgotten after it.
func TestRecentMessagesBounded(t *testing.T) {
	var r recentMessages
	now := time.Unix(1_700_000_000, 0)
	if r.seen("first", now) {
		t.Fatal("a new message taken for a retransmission")
	}
	for i := range 3 * maxRecentMessages {
		r.seen("flood"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(r.keys); n > maxRecentMessages {
		t.Fatalf("%d keys remembered after a flood, want at most %d", n, maxRecentMessages)
	}
	if !r.seen("first", now.Add(30*time.Second)) {
		t.Fatal("a retransmission 30 s later not recognised")
	}
	later := now.Add(2 * time.Minute)
	if r.seen("first", later) {
		t.Fatal("a key older than a minute still remembered")
	}
	if n := len(r.keys); n != 1 {
		t.Fatalf("%d keys after every other one expired, want 1", n)
	}
}

// BenchmarkRecentMessagesFlood is one MESSAGE's dedupe during a flood of distinct ones.
func BenchmarkRecentMessagesFlood(b *testing.B) {
	var r recentMessages
	now := time.Unix(1_700_000_000, 0)
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Millisecond) // 1000 a second
		r.seen("m"+strconv.Itoa(i), now)
	}
}

// TestReusedMessageKeyIsANewMessage: a peer that sends every MESSAGE under one Call-ID and
// CSeq (one that restarts its CSeq) is heard: other text under the key is a new message,
// shown; the same text again is a retransmission, answered and not shown twice. Before, the
// second message was answered 200 and lost.
func TestReusedMessageKeyIsANewMessage(t *testing.T) {
	_, addr, events := runPhone(t, Config{}) // no store: recentMessages decides
	<-events                                 // snapshot
	for _, text := range []string{"first", "second", "second"} {
		if res := sendRawMessage(t, addr, "call-fixed", 1, "text/plain", []byte(text)); res.StatusCode != 200 {
			t.Fatalf("%q: %d %s", text, res.StatusCode, res.Reason)
		}
	}
	var got []string
	timeout := time.After(2 * time.Second)
	for len(got) < 3 {
		select {
		case ev := <-events:
			if m, ok := ev.(Message); ok {
				got = append(got, m.Text)
			}
		case <-timeout:
			if want := "first|second"; strings.Join(got, "|") != want {
				t.Fatalf("shown %q, want %q", strings.Join(got, "|"), want)
			}
			return
		}
	}
	t.Fatalf("shown %q: the retransmission shown again", got)
}

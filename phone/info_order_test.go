package phone

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// markerTx is a server transaction whose Respond publishes a marker event on p's bus: where it
// falls among p's events tells what the handler published before answering.
type markerTx struct {
	sip.ServerTransaction // nil: onInfo only responds
	p                     *Phone
	marker                int
}

func (t markerTx) Respond(*sip.Response) error {
	t.p.publish(DNDChanged{Code: t.marker})
	return nil
}

// TestInfoDigitPublishedBeforeItsAnswer: a DTMF INFO's digit is published before the INFO is
// answered. A far end sends its next INFO once the last is answered (sipp does, as PBXs do), and
// sipgo handles each request on a goroutine of its own, so a digit published after the 200
// could come out after the next INFO's digit: under -race, sipp's "5##" came out "#5#".
func TestInfoDigitPublishedBeforeItsAnswer(t *testing.T) {
	r := newFuzzRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.b.Subscribe(ctx)
	const digits = "5#19*0"
	for i, d := range digits {
		r.cseq++
		body := fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", d)
		raw := fmt.Sprintf("INFO sip:b@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-order-%d\r\n"+
			"From: <sip:a@%s>;tag=%s\r\nTo: <sip:b@%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d INFO\r\n"+
			"Max-Forwards: 70\r\nContent-Type: application/dtmf-relay\r\nContent-Length: %d\r\n\r\n%s",
			r.bAddr, r.aAddr, i, r.aAddr, r.aTag, r.bAddr, r.bTag, r.callID, r.cseq, len(body), body)
		msg, err := r.parser.ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		r.b.onInfo(msg.(*sip.Request), markerTx{p: r.b, marker: 1000 + i})
	}
	var want string
	for i, d := range digits {
		want += fmt.Sprintf("%c,answer %d,", d, 1000+i)
	}
	if got := eventOrder(t, events, len(want)); got != want {
		t.Fatalf("events %q, want each digit before its answer: %q", got, want)
	}
}

// eventOrder reads events (5 s at most) until n characters of them are written down: a
// DTMFReceived as its digit, a Message as its text, a markerTx's answer as "answer N", each
// followed by a comma; other events are skipped.
func eventOrder(t *testing.T, events <-chan Event, n int) string {
	t.Helper()
	var got string
	timeout := time.After(5 * time.Second)
	for len(got) < n {
		select {
		case ev := <-events:
			switch e := ev.(type) {
			case DTMFReceived:
				got += string(e.Digit) + ","
			case Message:
				got += e.Text + ","
			case DNDChanged:
				got += fmt.Sprintf("answer %d,", e.Code)
			}
		case <-timeout:
			t.Fatalf("events so far %q, %d characters wanted", got, n)
		}
	}
	return got
}

// TestMessageShownBeforeItsAnswer: an incoming MESSAGE is published before it is answered, so
// messages sent one after the other, each once the last was answered, come out in order; also
// those the history cannot keep (a full disk, message_unkept.go).
func TestMessageShownBeforeItsAnswer(t *testing.T) {
	t.Run("no history", func(t *testing.T) { messagesInOrder(t, Config{}) })
	t.Run("history full", func(t *testing.T) { messagesInOrder(t, Config{Messages: &fullStore{}}) })
}

func messagesInOrder(t *testing.T, cfg Config) {
	p, addr, events := runPhone(t, cfg)
	parser := sip.NewParser()
	texts := []string{"one", "two", "three", "four"}
	for i, text := range texts {
		raw := fmt.Sprintf("MESSAGE sip:b@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-msg-order-%d-%d\r\n"+
			"From: <sip:a@127.0.0.1>;tag=a%d\r\nTo: <sip:b@%s>\r\nCall-ID: msg-order-%d-%d@test\r\nCSeq: 1 MESSAGE\r\n"+
			"Max-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
			addr, time.Now().UnixNano(), i, i, addr, time.Now().UnixNano(), i, len(text), text)
		msg, err := parser.ParseSIP([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		p.onMessage(msg.(*sip.Request), markerTx{p: p, marker: 1000 + i})
	}
	var want string
	for i, text := range texts {
		want += fmt.Sprintf("%s,answer %d,", text, 1000+i)
	}
	if got := eventOrder(t, events, len(want)); got != want {
		t.Fatalf("events %q, want each message before its answer: %q", got, want)
	}
}

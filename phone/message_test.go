package phone

import (
	"context"
	"fmt"
	"mime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// runPhone starts a phone with no accounts on 127.0.0.1 and returns its SIP address.
func runPhone(t *testing.T, cfg Config, opts ...Option) (*Phone, string, <-chan Event) {
	t.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	p, err := New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := p.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-p.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return p, p.SIPAddr(), events
}

// runUnsubscribed runs a phone on cfg.ListenAddr with no front end subscribed to its events,
// until the test ends.
func runUnsubscribed(t *testing.T, cfg Config) *Phone {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-p.Ready():
	case err := <-done:
		t.Fatal(err)
	}
	return p
}

// sendRawMessage sends one MESSAGE with sipgo (another SIP stack than the phone's own code).
func sendRawMessage(t *testing.T, to, callID string, cseq uint32, contentType string, body []byte) *sip.Response {
	t.Helper()
	req := peerRequest(sip.MESSAGE, to, "tester", "t1", "me", "", callID, cseq)
	req.From().DisplayName = "Tester"
	if contentType != "" {
		ct := sip.ContentTypeHeader(contentType)
		req.AppendHeader(&ct)
	}
	req.SetBody(body)
	return doRequest(t, testClient(t), req)
}

type memoryMessages struct {
	saved []Message
	keys  map[string]bool
}

func (m *memoryMessages) SeenMessage(_ context.Context, msg Message, id string, cseq uint32) (bool, error) {
	return m.keys[id+msg.Peer+string(rune(cseq))], nil
}

func (m *memoryMessages) SaveMessage(_ context.Context, msg Message, id string, cseq uint32) error {
	if m.keys == nil {
		m.keys = map[string]bool{}
	}
	m.keys[id+msg.Peer+string(rune(cseq))] = true
	m.saved = append(m.saved, msg)
	return nil
}

func TestIncomingMessages(t *testing.T) {
	store := &memoryMessages{}
	_, addr, events := runPhone(t, Config{Messages: store})
	<-events // snapshot
	cases := []struct {
		name, ct string
		body     []byte
		code     int
	}{
		{"utf-8 text", "text/plain;charset=utf-8", []byte("héllo ✓"), 200},
		{"no charset", "text/plain", []byte("plain"), 200},
		{"json", "application/json", []byte(`{"a":1}`), 415},
		{"latin-1", "text/plain;charset=iso-8859-1", []byte("caf\xe9"), 200},
		{"windows-1252", "text/plain; charset=windows-1252", []byte("\x93quoted\x94 \x80"), 200},
		{"utf8 spelt so", "text/plain;charset=utf8", []byte("ünï"), 200},
		{"cpim", "message/cpim", []byte("From: <sip:tester@127.0.0.1>\r\nTo: <sip:me@127.0.0.1>\r\nDateTime: 2026-12-07T10:00:00Z\r\n\r\n" +
			"Content-Type: text/plain;charset=utf-8\r\nContent-Length: 9\r\n\r\nwrapped ✓"), 200},
		{"cpim of a notification", "message/cpim", []byte("From: <sip:x@y>\r\n\r\nContent-Type: message/imdn+xml\r\n\r\n<imdn/>"), 415},
		{"an unknown charset", "text/plain;charset=x-klingon", []byte("qapla'"), 415},
		{"bad utf-8", "text/plain;charset=utf-8", []byte("caf\xe9"), 415},
	}
	// Bodies past the limit cannot cross UDP at all (sipgo refuses to send past the MTU, as
	// RFC 3261 18.1.1 wants); over TCP they reach checkMessageBody, which refuses them.
	if _, code, _ := checkMessageBody("text/plain", []byte(strings.Repeat("x", MaxMessageBytes+1))); code != 413 {
		t.Fatalf("oversized body: %d, want 413", code)
	}
	for i, c := range cases {
		res := sendRawMessage(t, addr, "call-"+c.name, uint32(i+1), c.ct, c.body)
		if int(res.StatusCode) != c.code {
			t.Fatalf("%s: %d %s, want %d", c.name, res.StatusCode, res.Reason, c.code)
		}
		if c.code == 415 {
			if h := res.GetHeader("Accept"); h == nil || !strings.Contains(h.Value(), "text/plain") {
				t.Fatalf("%s: 415 without Accept: text/plain", c.name)
			}
		}
	}
	// A retransmission as a new transaction (same Call-ID, CSeq, sender) is answered, not shown again.
	if res := sendRawMessage(t, addr, "call-utf-8 text", 1, "text/plain;charset=utf-8", []byte("héllo ✓")); res.StatusCode != 200 {
		t.Fatalf("retransmission: %d", res.StatusCode)
	}
	var got []string
	timeout := time.After(2 * time.Second)
collect:
	for {
		select {
		case ev := <-events:
			if m, ok := ev.(Message); ok {
				got = append(got, m.Text)
				if m.PeerName != "Tester" || !strings.Contains(m.Peer, "tester@") || m.Status != "received" {
					t.Fatalf("message event %+v", m)
				}
			}
		case <-timeout:
			break collect
		}
	}
	if want := "héllo ✓|plain|café|“quoted” €|ünï|wrapped ✓"; strings.Join(got, "|") != want {
		t.Fatalf("shown %q, want %q, each once, as UTF-8", strings.Join(got, "|"), want)
	}
	if len(store.saved) != 6 {
		t.Fatalf("stored %d, want 6", len(store.saved))
	}
}

// FuzzCheckMessageBody: any content type and body gets a decision, never a panic, and what is
// accepted is valid UTF-8 within the size limit.
func FuzzCheckMessageBody(f *testing.F) {
	for _, s := range [][2]string{
		{"text/plain;charset=utf-8", "héllo ✓"}, {"text/plain", "x"}, {"", "no type"},
		{"TEXT/PLAIN; CHARSET=UTF-8", "upper"}, {"text/plain;charset=\"utf-8\"", "quoted"},
		{"application/im-iscomposing+xml", "<x/>"}, {"text/plain;charset=", "empty"},
		{"text/plain;;;", "semis"}, {"multipart/mixed;boundary=x", "--x"}, {"text/plain", "\xff\xfe"},
		{"text/plain;charset=iso-8859-1", "caf\xe9"}, {"message/cpim", "From: <sip:a@b>\r\n\r\nContent-Type: text/plain\r\n\r\nhi"},
		{"message/cpim", "no blank line"}, {"text/plain;charset=utf-16le", "h\x00i\x00"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		text, code, reason := checkMessageBody(ct, body)
		if code == 0 {
			if !utf8Valid(text) || len(text) > 4*MaxMessageBytes { // decoded: a Latin-1 letter takes up to 3 bytes
				t.Fatalf("accepted %q (%d bytes) from %q", text, len(text), ct)
			}
			if mt, params, _ := mime.ParseMediaType(ct); (ct == "" || mt == "text/plain") && strings.EqualFold(params["charset"], "utf-8") && text != string(body) {
				t.Fatalf("UTF-8 text changed: %q from %q", text, body)
			}
		} else if (code != 415 && code != 413 && code != 400) || reason == "" {
			t.Fatalf("refusal %d %q", code, reason)
		}
	})
}

// racingStore is a store two copies of one message passed at once: SeenMessage said "new" to
// both, and the second SaveMessage finds the first stored (as phone/store's unique key does).
type racingStore struct {
	mu    sync.Mutex
	saved int
}

func (r *racingStore) SeenMessage(context.Context, Message, string, uint32) (bool, error) {
	return false, nil
}

func (r *racingStore) SaveMessage(context.Context, Message, string, uint32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.saved++; r.saved > 1 {
		return fmt.Errorf("store: %w", ErrDuplicateMessage)
	}
	return nil
}

// TestRacingCopiesOfAMessageShownOnce: two copies of one MESSAGE (a retransmission on a new
// branch, a proxy forking to two of our bindings) both pass the store's "seen" check; the store
// keeps one, and the phone answers both and shows one. Before, the second copy was shown too.
func TestRacingCopiesOfAMessageShownOnce(t *testing.T) {
	_, addr, events := runPhone(t, Config{Messages: &racingStore{}})
	<-events // snapshot
	for range 2 {
		if res := sendRawMessage(t, addr, "fork-1", 7, "text/plain", []byte("once")); res.StatusCode != 200 {
			t.Fatalf("%d %s, want 200", res.StatusCode, res.Reason)
		}
	}
	shown := 0
	timeout := time.After(time.Second)
	for {
		select {
		case ev := <-events:
			if _, ok := ev.(Message); ok {
				shown++
			}
		case <-timeout:
			if shown != 1 {
				t.Fatalf("shown %d times, want once", shown)
			}
			return
		}
	}
}

// TestMessageBodiesAtTheEdges: the 4096-byte limit is the body's on the wire (a Latin-1 text of
// 4096 bytes decodes to more, and is taken), and a CPIM message's text's (its wrapper adds its
// headers); a CPIM Content-Type folded over two lines keeps its charset; line ends inside the
// text are kept as they came.
func TestMessageBodiesAtTheEdges(t *testing.T) {
	latin := []byte(strings.Repeat("\xe9", MaxMessageBytes)) // 4096 é: 8192 bytes of UTF-8
	if text, code, _ := checkMessageBody("text/plain;charset=ISO-8859-1", latin); code != 0 || text != strings.Repeat("é", MaxMessageBytes) {
		t.Fatalf("4096 bytes of Latin-1: %d, %d bytes of text", code, len(text))
	}
	wrap := func(ct, text string) []byte {
		return []byte("From: <sip:a@example.com>\r\nTo: <sip:b@example.com>\r\nDateTime: 2026-12-07T10:00:00Z\r\n" +
			"NS: imdn <urn:ietf:params:imdn>\r\nimdn.Message-ID: 1234567890\r\n\r\n" + ct + "\r\n\r\n" + text + "\r\n")
	}
	long := strings.Repeat("x", MaxMessageBytes-10)
	if text, code, _ := checkMessageBody("message/cpim", wrap("Content-Type: text/plain", long)); code != 0 || text != long {
		t.Fatalf("a CPIM message of %d bytes of text: %d, %d bytes", len(long), code, len(text))
	}
	folded := wrap("Content-Type: text/plain;\r\n charset=ISO-8859-1", "caf\xe9\r\nau lait")
	if text, code, _ := checkMessageBody("message/cpim", folded); code != 0 || text != "café\r\nau lait" {
		t.Fatalf("folded CPIM header: %d %q", code, text)
	}
	if _, code, _ := checkMessageBody("text/plain", []byte(strings.Repeat("x", MaxMessageBytes+1))); code != 413 {
		t.Fatalf("4097 bytes: %d, want 413", code)
	}
}

package ladder

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone/srtp"
	"github.com/dialtone/dialtone/ui/common"
	"github.com/dialtone/dialtone/ui/internal/uitest"
	"github.com/dialtone/dialtone/ui/styles"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	local   = "192.0.2.10:5062"
	remote  = "198.51.100.7:5060"
	srtpKey = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
)

// sipLine is what the TUI's tracer sends for one message.
func sipLine(sent bool, first, cseq, callID string, sdp bool) string {
	from, to := "<sip:alice@example.com>;tag=a1", "<sip:bob@example.org>"
	if !sent && !strings.HasPrefix(first, "SIP/") || sent && strings.HasPrefix(first, "SIP/") {
		from, to = to+";tag=b2", "<sip:alice@example.com>;tag=a1"
	}
	body := ""
	ctype := ""
	if sdp {
		body = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/SAVP 111 0\r\na=rtpmap:111 opus/48000/2\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + srtpKey + "\r\n"
		ctype = "Content-Type: application/sdp\r\n"
	}
	msg := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK1\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s",
		first, local, from, to, callID, cseq, ctype, len(body), body)
	if sent {
		return "send UDP " + local + " -> " + remote + "\n" + msg
	}
	return "recv UDP " + remote + " -> " + local + "\n" + msg
}

// call feeds an INVITE/100/180/200/ACK/BYE/200 call into m, 0.1 s apart (the 200 two seconds in).
func call(m *Model, callID string, start time.Time) {
	steps := []struct {
		sent        bool
		first, cseq string
		sdp         bool
		at          time.Duration
	}{
		{true, "INVITE sip:bob@example.org SIP/2.0", "1 INVITE", true, 0},
		{false, "SIP/2.0 100 Trying", "1 INVITE", false, 20 * time.Millisecond},
		{false, "SIP/2.0 180 Ringing", "1 INVITE", false, 120 * time.Millisecond},
		{false, "SIP/2.0 200 OK", "1 INVITE", true, 2100 * time.Millisecond},
		{true, "ACK sip:bob@198.51.100.7 SIP/2.0", "1 ACK", false, 2110 * time.Millisecond},
		{true, "BYE sip:bob@198.51.100.7 SIP/2.0", "2 BYE", false, 9500 * time.Millisecond},
		{false, "SIP/2.0 200 OK", "2 BYE", false, 9530 * time.Millisecond},
	}
	for _, s := range steps {
		m.Add(start.Add(s.at), sipLine(s.sent, s.first, s.cseq, callID, s.sdp))
	}
}

func newModel(w, h int) *Model {
	m := New(common.NewCommon(styles.New(true, true)))
	m.SetSize(w, h)
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(uitest.Key(k))
	}
}

func TestLadderOrderAndLabels(t *testing.T) {
	m := newModel(80, 20)
	m.Add(t0.Add(-time.Minute), sipLine(true, "REGISTER sip:example.com SIP/2.0", "1 REGISTER", "reg-1", false))
	call(m, "call-1", t0)
	m.Open()
	ds := m.Dialogs()
	if len(ds) != 2 || ds[0].Method != "REGISTER" || ds[1].Method != "INVITE" || ds[1].Peer != "sip:bob@example.org" {
		t.Fatalf("dialogs: %+v", ds)
	}
	out := ansi.Strip(m.View())
	want := []string{"INVITE (SDP)", "100 Trying", "180 Ringing", "200 OK (SDP)", "ACK", "BYE", "200 OK"}
	pos := 0
	for _, w := range want {
		i := strings.Index(out[pos:], w)
		if i < 0 {
			t.Fatalf("%q not after offset %d in\n%s", w, pos, out)
		}
		pos += i + len(w)
	}
	if !strings.Contains(out, "+2.100s") || !strings.Contains(out, "→") || !strings.Contains(out, "←") {
		t.Errorf("no delta or arrows:\n%s", out)
	}
}

// TestCryptoMasked: an a=crypto key never reaches the screen, even when the caller forgot to
// mask it; the mask shows in its place.
func TestCryptoMasked(t *testing.T) {
	m := newModel(100, 40)
	call(m, "call-1", t0)
	m.Open()
	press(m, "enter", "enter") // the ladder, then the INVITE in full
	out := ansi.Strip(m.View())
	if strings.Contains(out, srtpKey) {
		t.Fatalf("the SRTP key is on screen:\n%s", out)
	}
	if !strings.Contains(out, "inline:"+srtp.KeyMask) ||
		strings.Contains(out, "hidden> hidden>") || !strings.Contains(out, "m=audio 40000 RTP/SAVP") {
		t.Fatalf("no masked crypto line or SDP:\n%s", out)
	}
}

func TestFilter(t *testing.T) {
	m := newModel(80, 20)
	call(m, "call-1", t0)
	m.Add(t0.Add(time.Second), sipLine(true, "MESSAGE sip:carol@example.net SIP/2.0", "1 MESSAGE", "msg-9", false))
	m.Open()
	press(m, "m", "s", "g")
	if ds := m.Dialogs(); len(ds) != 1 || ds[0].CallID != "msg-9" {
		t.Fatalf("filter msg: %+v", ds)
	}
	press(m, "backspace", "backspace", "backspace", "l", "-", "1")
	if ds := m.Dialogs(); len(ds) != 1 || ds[0].CallID != "call-1" {
		t.Fatalf("filter l-1: %+v", ds)
	}
	press(m, "esc")
	if len(m.Dialogs()) != 2 || !m.Active() {
		t.Fatal("esc should clear the filter and keep the pane open")
	}
	press(m, "esc")
	if m.Active() {
		t.Fatal("esc should close the pane")
	}
}

func TestBounded(t *testing.T) {
	m := newModel(80, 20)
	for i := range MaxMessages/7 + 10 {
		call(m, fmt.Sprintf("call-%d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	if m.total > MaxMessages || len(m.dialogs)*7 != m.total {
		t.Fatalf("total %d, %d dialogs", m.total, len(m.dialogs))
	}
	if m.dialogs[0].CallID == "call-0" {
		t.Fatal("the oldest dialog was kept")
	}
	// One endless dialog still stays bounded.
	m2 := newModel(80, 20)
	for i := range MaxMessages + 5 {
		m2.Add(t0, sipLine(true, "OPTIONS sip:x SIP/2.0", fmt.Sprintf("%d OPTIONS", i+1), "opt", false))
	}
	if m2.total != MaxMessages || len(m2.dialogs[0].Msgs) != MaxMessages {
		t.Fatalf("total %d", m2.total)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "send UDP a -> b", "hello\nINVITE x SIP/2.0", "send UDP a -> b\nnot sip", "send UDP a b c\nSIP/2.0 200 OK"} {
		if _, ok := Parse(t0, s); ok {
			t.Errorf("Parse(%q) ok", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sipLine(true, "INVITE sip:bob@example.org SIP/2.0", "1 INVITE", "c", true))
	f.Add(sipLine(false, "SIP/2.0 180 Ringing", "1 INVITE", "c", false))
	f.Add("recv TCP [2001:db8::1]:5060 -> [2001:db8::2]:5060\nSIP/2.0 200 OK\r\ni: x\r\nf: <sip:a@b\r\n\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		m := newModel(60, 12)
		m.Add(t0, s)
		m.Open()
		_ = m.View()
		press(m, "enter", "enter")
		_ = m.View()
		if x, ok := Parse(t0, s); ok && strings.Contains(x.Text, "inline:") && strings.Contains(s, "inline:"+srtpKey) && strings.Contains(x.Text, srtpKey) {
			t.Fatal("key not masked")
		}
	})
}

// TestCryptoMaskedOnce: a line the tracer already masked is shown as it came, not masked twice.
func TestCryptoMaskedOnce(t *testing.T) {
	line := sipLine(true, "INVITE sip:bob@example.org SIP/2.0", "1 INVITE", "c1", true)
	x, ok := Parse(t0, string(srtp.MaskCryptoLines([]byte(line))))
	if !ok {
		t.Fatal("not parsed")
	}
	if want := "inline:" + srtp.KeyMask + "\r\n"; !strings.Contains(x.Text, want) || strings.Contains(x.Text, srtpKey) {
		t.Fatalf("want %q in\n%s", want, x.Text)
	}
}

// TestSDPHighlighted: in colour, the SDP body is styled apart from the headers.
func TestSDPHighlighted(t *testing.T) {
	m := New(common.NewCommon(styles.New(true, false)))
	m.SetSize(100, 40)
	call(m, "call-1", t0)
	m.Open()
	press(m, "enter", "enter")
	var mline, cline string
	for _, l := range strings.Split(m.View(), "\n") {
		switch s := ansi.Strip(l); {
		case strings.HasPrefix(s, "m=audio"):
			mline = l
		case strings.HasPrefix(s, "Content-Type:"):
			cline = l
		}
	}
	// The m= line is styled whole; a header's value is not (only its name is).
	if mline == "" || !strings.HasPrefix(mline, "\x1b[") || !strings.HasSuffix(cline, " application/sdp") {
		t.Fatalf("m= line %q, Content-Type line %q", mline, cline)
	}
}

// TestOtherHop: a message to another address than the dialog's first is labelled with it.
func TestOtherHop(t *testing.T) {
	m := newModel(100, 20)
	call(m, "call-1", t0)
	bye := strings.Replace(sipLine(true, "BYE sip:bob@203.0.113.9 SIP/2.0", "3 BYE", "call-1", false), remote, "203.0.113.9:5060", 1)
	m.Add(t0.Add(time.Minute), bye)
	m.Open()
	if out := ansi.Strip(m.View()); !strings.Contains(out, "BYE "+local+"⇄203.0.113.9:5060") {
		t.Fatalf("no hop in the label:\n%s", out)
	}
}

// TestResponseFirst: a dialog whose first message seen is a response is named by its CSeq
// method until a request comes.
func TestResponseFirst(t *testing.T) {
	m := newModel(80, 20)
	m.Add(t0, sipLine(false, "SIP/2.0 200 OK", "5 OPTIONS", "late", false))
	if d := m.Dialogs()[0]; d.Method != "OPTIONS" {
		t.Fatalf("method %q", d.Method)
	}
	m.Add(t0, sipLine(true, "BYE sip:bob@example.org SIP/2.0", "6 BYE", "late", false))
	if d := m.Dialogs()[0]; d.Method != "BYE" || d.Peer != "sip:bob@example.org" {
		t.Fatalf("dialog %+v", d)
	}
}

func BenchmarkAdd(b *testing.B) {
	m := newModel(120, 40)
	lines := []string{
		sipLine(true, "INVITE sip:bob@example.org SIP/2.0", "1 INVITE", "c", true),
		sipLine(false, "SIP/2.0 200 OK", "1 INVITE", "c", true),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Add(t0, lines[i%2])
	}
}

func TestPasteFilterAndPages(t *testing.T) {
	m := newModel(80, 12)
	for i := range 20 {
		call(m, fmt.Sprintf("call-%02d", i), t0.Add(time.Duration(i)*time.Minute))
	}
	m.Open()
	press(m, "up")
	if d := m.Selected(); d == nil || d.CallID != "call-18" {
		t.Fatalf("up from the newest: %+v", d)
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyPgUp})
	if d := m.Selected(); d == nil || d.CallID >= "call-18" {
		t.Fatalf("pgup did not move up: %+v", d)
	}
	m.Update(tea.PasteMsg{Content: " call-07\nignored"})
	if ds := m.Dialogs(); len(ds) != 1 || ds[0].CallID != "call-07" || m.filter != "call-07" {
		t.Fatalf("paste: filter %q, %d dialogs", m.filter, len(ds))
	}
	m.Update(tea.PasteMsg{Content: strings.Repeat("é", 200)})
	if len(m.filter) > maxFilter || !utf8.ValidString(m.filter) {
		t.Fatalf("filter %d bytes, valid %v", len(m.filter), utf8.ValidString(m.filter))
	}
	press(m, "esc", "enter")
	m.Update(tea.KeyPressMsg{Code: tea.KeyPgDown})
	if m.msg == 0 {
		t.Fatal("pgdown did not move in the ladder")
	}
}

// TestNetworkTextIsCleaned: a message anyone can send (an OPTIONS to our port) with escape
// sequences in its Call-ID, a header and its body is drawn without them, in the dialog list,
// the ladder and the message in full.
func TestNetworkTextIsCleaned(t *testing.T) {
	m := newModel(120, 40)
	evil := "OPTIONS sip:x@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK9\r\nFrom: <sip:evil@example.net>;tag=e\r\n" +
		"To: <sip:x@192.0.2.10>\r\nCall-ID: id\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\\r\nCSeq: 1 OPTIONS\r\nX: a\x1b_Ga=T,t=f;x\x1b\\\r\nContent-Length: 12\r\n\r\nbody\x1b[2Jbody"
	m.Add(t0, "recv UDP "+remote+" -> "+local+"\n"+evil)
	m.Open()
	for _, keys := range [][]string{nil, {"enter"}, {"enter", "enter"}} {
		press(m, keys...)
		out := m.View()
		for _, seq := range []string{"\x1b]8;;http://evil", "\x1b_G", "\x1b[2J"} {
			if strings.Contains(out, seq) {
				t.Fatalf("after %v the view carries %q", keys, seq)
			}
		}
	}
}

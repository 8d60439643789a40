package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/dialtone/dialtone/phone/srtp"
)

const (
	ladderLocal  = "192.0.2.10:5062"
	ladderRemote = "198.51.100.7:5060"
	ladderKey    = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
)

// sipTrace is the LogLine the TUI's tracer sends for one message (keys masked there, as
// paneTracer does).
func sipTrace(at time.Time, sent bool, first, cseq, callID, peer string, sdp bool) LogLine {
	us, them := "<sip:alice@example.com>;tag=a1", "<"+peer+">"
	from, to := us, them
	if sent == strings.HasPrefix(first, "SIP/") { // what we receive, and responses we send
		from, to = them+";tag=b2", us
	}
	body, ctype := "", ""
	if sdp {
		body = "v=0\r\no=- 4711 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
			"m=audio 40000 RTP/SAVP 111 9 0 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n" +
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + ladderKey + "\r\na=sendrecv\r\n"
		ctype = "Content-Type: application/sdp\r\n"
	}
	msg := fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"+
		"Call-ID: %s\r\nCSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s", first, ladderLocal, from, to, callID, cseq, ctype, len(body), body)
	head := "recv UDP " + ladderRemote + " -> " + ladderLocal
	if sent {
		head = "send UDP " + ladderLocal + " -> " + ladderRemote
	}
	return LogLine{Time: at, Level: "SIP", SIP: true, Text: head + "\n" + string(srtp.MaskCryptoLines([]byte(msg)))}
}

// ladderCall is an INVITE/100/180/200/ACK/BYE/200 call to peer starting at start.
func ladderCall(start time.Time, callID, peer string) []tea.Msg {
	steps := []struct {
		sent        bool
		first, cseq string
		sdp         bool
		at          time.Duration
	}{
		{true, "INVITE " + peer + " SIP/2.0", "1 INVITE", true, 0},
		{false, "SIP/2.0 100 Trying", "1 INVITE", false, 21 * time.Millisecond},
		{false, "SIP/2.0 180 Ringing", "1 INVITE", false, 134 * time.Millisecond},
		{false, "SIP/2.0 200 OK", "1 INVITE", true, 2412 * time.Millisecond},
		{true, "ACK sip:bob@198.51.100.7 SIP/2.0", "1 ACK", false, 2415 * time.Millisecond},
		{true, "BYE sip:bob@198.51.100.7 SIP/2.0", "2 BYE", false, 47380 * time.Millisecond},
		{false, "SIP/2.0 200 OK", "2 BYE", false, 47402 * time.Millisecond},
	}
	var out []tea.Msg
	for _, s := range steps {
		out = append(out, sipTrace(start.Add(s.at), s.sent, s.first, s.cseq, callID, peer, s.sdp))
	}
	return out
}

// TestLadderGoldenScreens: the SIP ladder pane (L) at 80x24 and 120x40 from a real program: a
// call's ladder, the INVITE in full with its SDP (the key masked), and the filter.
func TestLadderGoldenScreens(t *testing.T) {
	reg := sipTrace(t0.Add(-3*time.Minute), true, "REGISTER sip:example.com SIP/2.0", "1 REGISTER", "reg-5f1c2a", "sip:alice@example.com", false)
	regOK := sipTrace(t0.Add(-3*time.Minute+40*time.Millisecond), false, "SIP/2.0 200 OK", "1 REGISTER", "reg-5f1c2a", "sip:alice@example.com", false)
	msg := sipTrace(t0.Add(-time.Minute), true, "MESSAGE sip:carol@example.net SIP/2.0", "1 MESSAGE", "msg-77e0b3", "sip:carol@example.net", false)
	msgOK := sipTrace(t0.Add(-time.Minute+90*time.Millisecond), false, "SIP/2.0 202 Accepted", "1 MESSAGE", "msg-77e0b3", "sip:carol@example.net", false)
	traffic := append([]tea.Msg{reg, regOK, msg, msgOK}, ladderCall(t0, "a84b4c76e66710@192.0.2.10", "sip:bob@example.org")...)
	keys := func(ks ...string) []tea.Msg {
		var out []tea.Msg
		for _, k := range ks {
			out = append(out, keyMsg(k))
		}
		return out
	}
	scenarios := []struct {
		name   string
		events []tea.Msg
	}{
		{name: "ladder", events: append(append([]tea.Msg{}, traffic...), keys("L", "enter", "down", "down")...)},
		{name: "ladder_full", events: append(append([]tea.Msg{}, traffic...), keys("L", "enter", "enter")...)},
		// Scrolled down a page: the rest of the SDP, the key masked, at 80x24 too.
		{name: "ladder_full_scrolled", events: append(append([]tea.Msg{}, traffic...), keys("L", "enter", "enter", "pgdown")...)},
		{name: "ladder_filter", events: append(append([]tea.Msg{}, traffic...), keys("L", "c", "a", "r")...)},
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range scenarios {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				m := New(Options{Phone: newFakePhone("office"), NoColor: true, Version: "v0.3.0"})
				m.c.Now = func() time.Time { return t0 }
				m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
				h := startProgram(t, m, size[0], size[1])
				h.p.Send(snapshot(registered("office", "sip:alice@example.com")))
				for _, ev := range sc.events {
					h.p.Send(ev)
				}
				final := h.quit(t)
				screen := ansi.Strip(final.View().Content)
				if strings.Contains(screen, ladderKey) {
					t.Fatal("the SRTP key is on screen")
				}
				if sc.name == "ladder_full_scrolled" && !strings.Contains(screen, "inline:"+srtp.KeyMask) {
					t.Fatalf("no masked key on screen:\n%s", screen)
				}
				requireGolden(t, screen)
			})
		}
	}
}

// TestLadderIncomingCall: a call that rings while the ladder is open says how to get to the
// answer key; Esc steps out of the pane and a answers.
func TestLadderIncomingCall(t *testing.T) {
	fp := newFakePhone("office")
	m := New(Options{Phone: fp, NoColor: true, Version: "v0.3.0"})
	m.c.Now = func() time.Time { return t0 }
	m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	h := startProgram(t, m, 80, 24)
	h.p.Send(snapshot(registered("office", "sip:alice@example.com")))
	for _, ev := range ladderCall(t0, "c-1", "sip:bob@example.org") {
		h.p.Send(ev)
	}
	h.p.Send(keyMsg("L"))
	h.p.Send(incoming("c1"))
	h.p.Send(keyMsg("a")) // typed into the filter: the pane has the keyboard
	final := h.quit(t)
	screen := ansi.Strip(final.View().Content)
	if !strings.Contains(screen, "esc leaves the SIP ladder first") || !strings.Contains(screen, "filter: a") {
		t.Fatalf("no hint, or a did not go to the filter:\n%s", screen)
	}
	if !final.ladder.Active() {
		t.Fatal("the ladder closed")
	}
}

// TestLadderEscThenAnswer: with the ladder open, a goes to the filter and answers nothing;
// Esc clears the filter, Esc closes the pane, and a answers the ringing call once.
func TestLadderEscThenAnswer(t *testing.T) {
	fp := newFakePhone("office")
	m := New(Options{Phone: fp, NoColor: true, Version: "v0.3.0"})
	m.after = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	h := startProgram(t, m, 80, 24)
	h.p.Send(snapshot(registered("office", "sip:alice@example.com")))
	for _, msg := range []tea.Msg{keyMsg("L"), incoming("c1"), keyMsg("a"), keyMsg("esc"), keyMsg("esc"), keyMsg("a")} {
		h.p.Send(msg)
	}
	answers := func() (n int) {
		for _, c := range fp.Calls() {
			if c == "answer c1" {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(5 * time.Second); answers() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("a after Esc Esc did not answer: %q", fp.Calls())
		}
	}
	final := h.quit(t)
	if n := answers(); n != 1 || final.ladder.Active() {
		t.Fatalf("%d answers (want 1), ladder open %v", n, final.ladder.Active())
	}
}

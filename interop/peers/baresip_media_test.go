package peers

import (
	"strings"
	"testing"
	"time"
)

// bsCall has caller dial uri (callee answering automatically), lets the
// call run until each end has received d of audio, hangs up and waits for
// both ends to close.
func bsCall(t *testing.T, caller, callee *Baresip, uri string, d time.Duration) {
	t.Helper()
	if err := caller.Dial(uri); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "callee", callee, "CALL_ESTABLISHED")
	mustEvent(t, "caller", caller, "CALL_ESTABLISHED")
	waitAudio(t, d, caller, callee)
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	mustEvent(t, "caller", caller, "CALL_CLOSED")
	mustEvent(t, "callee", callee, "CALL_CLOSED")
}

// waitAudio waits until each of bs has received d of audio in its current
// call.
func waitAudio(t *testing.T, d time.Duration, bs ...*Baresip) {
	t.Helper()
	for _, b := range bs {
		if err := b.WaitReceivedAudio(d, d+bsEventTimeout); err != nil {
			t.Fatalf("%s: %v", b.AOR(), err)
		}
	}
}

// onlyRecording returns b's single recording of received audio.
func onlyRecording(t *testing.T, who string, b *Baresip) string {
	t.Helper()
	recs, err := b.Recordings()
	if err != nil || len(recs) != 1 {
		t.Fatalf("%s: recordings %v %v, want one", who, recs, err)
	}
	return recs[0]
}

// sdpLines returns the lines of sdp that start with one of prefixes.
func sdpLines(sdp string, prefixes ...string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(sdp, "\r\n", "\n"), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// onlySDP returns the single SDP in sdps.
func onlySDP(t *testing.T, what string, sdps []string) string {
	t.Helper()
	if len(sdps) != 1 {
		t.Fatalf("%s: %d SDP bodies, want 1: %q", what, len(sdps), sdps)
	}
	return sdps[0]
}

// wantMenc checks that b reported SRTP (CALL_MENC) with the 80-bit tag suite.
func wantMenc(t *testing.T, who string, b *Baresip) {
	t.Helper()
	ev := mustEvent(t, who, b, "CALL_MENC")
	if !strings.Contains(ev.Param, "audio,AES_CM_128_HMAC_SHA1_80") {
		t.Errorf("%s: CALL_MENC param %q, want audio,AES_CM_128_HMAC_SHA1_80", who, ev.Param)
	}
}

func noMenc(t *testing.T, who string, b *Baresip) {
	t.Helper()
	for _, ev := range b.Events() {
		if ev.Type == "CALL_MENC" {
			t.Errorf("%s: unexpected CALL_MENC %q on a plain call", who, ev.Param)
		}
	}
}

// TestBaresipSRTPOverTLS: two baresips register over TLS with Kamailio
// (which keeps each registration's connection for the calls to it) and make
// an RTP/SAVP call (mediaenc=srtp-mand on both); each records the other's
// tone.
func TestBaresipSRTPOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})
	opts := func(user string, tone float64) BaresipOptions {
		return BaresipOptions{User: user, Password: user + "pw", Registrar: k.HostPort("tls"), Transport: "tls",
			CAFile: k.CAFile(), MediaEnc: "srtp-mand", AutoAnswer: true, ToneHz: tone}
	}
	alice := StartBaresip(t, opts("alice", 700))
	bob := StartBaresip(t, opts("bob", 1300))
	if bob.CertFile() == "" {
		t.Error("CertFile empty for a TLS baresip")
	}
	bs, err := k.Bindings("sip:alice@127.0.0.1")
	if err != nil || len(bs) != 1 {
		t.Fatalf("alice's bindings: %+v %v", bs, err)
	}
	if !strings.Contains(bs[0].Address, "transport=tls") || !strings.HasPrefix(bs[0].Socket, "tls:") {
		t.Errorf("alice's binding %+v is not over TLS", bs[0])
	}

	bsCall(t, bob, alice, "sip:alice@127.0.0.1", 2500*time.Millisecond)
	wantMenc(t, "alice", alice)
	wantMenc(t, "bob", bob)

	// Every SIP message went over TLS, and the INVITE reached alice on the
	// connection she registered over (no connection from Kamailio to her
	// listener).
	var invite *BaresipSIPMessage
	for _, m := range alice.SIPTrace() {
		if m.Transport != "TLS" {
			t.Errorf("alice: %s over %s", m.FirstLine(), m.Transport)
		}
		if !m.Sent && m.Method() == "INVITE" && m.IsRequest() {
			invite = &m
		}
	}
	if invite == nil {
		t.Fatal("alice's trace has no INVITE received")
	}
	if want := net2port(bs[0].Received); want != "" && !strings.HasSuffix(invite.Dst, ":"+want) {
		t.Errorf("INVITE reached alice at %s, not on the registration's connection (%s)", invite.Dst, bs[0].Received)
	}
	offer := onlySDP(t, "bob's offer", bob.SentSDPs())
	if !strings.Contains(offer, "m=audio ") || len(sdpLines(offer, "m=audio ")) != 1 ||
		!strings.Contains(sdpLines(offer, "m=audio ")[0], " RTP/SAVP ") {
		t.Errorf("bob's offer is not RTP/SAVP:\n%s", offer)
	}
	if c := sdpLines(offer, "a=crypto:"); len(c) != 1 || !strings.HasPrefix(c[0], "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Errorf("bob's offer crypto lines %q", c)
	}
	answer := onlySDP(t, "alice's answer", alice.SentSDPs())
	if c := sdpLines(answer, "m=audio ", "a=crypto:"); len(c) != 2 || !strings.Contains(c[0], " RTP/SAVP ") {
		t.Errorf("alice's answer: %q", c)
	}

	checkRecording(t, "alice", onlyRecording(t, "alice", alice), 1300, 700)
	checkRecording(t, "bob", onlyRecording(t, "bob", bob), 700, 1300)
}

// net2port returns the port of a "sip:IP:PORT;transport=tls" URI.
func net2port(uri string) string {
	uri, _, _ = strings.Cut(uri, ";")
	i := strings.LastIndex(uri, ":")
	if i < 0 {
		return ""
	}
	return uri[i+1:]
}

// TestBaresipSRTPRefused: an answerer with mediaenc=srtp-mand refuses an
// RTP/AVP offer, with or without a=crypto, and an srtp-mand offerer's
// RTP/SAVP offer is refused by a plain answerer: 488 Not Acceptable Here
// each time (the answerer's CALL_CLOSED says "No audio codecs").
func TestBaresipSRTPRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	for _, c := range []struct{ name, caller, callee string }{
		{"plain-to-mand", "", "srtp-mand"},
		{"srtp-to-mand", "srtp", "srtp-mand"},
		{"mand-to-plain", "srtp-mand", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			callee := StartBaresip(t, BaresipOptions{User: "callee", MediaEnc: c.callee, AutoAnswer: true})
			caller := StartBaresip(t, BaresipOptions{User: "caller", MediaEnc: c.caller})
			if err := caller.Dial(callee.AOR()); err != nil {
				t.Fatal(err)
			}
			closed := mustEvent(t, "caller", caller, "CALL_CLOSED")
			if closed.Param != "488 Not Acceptable Here" {
				t.Errorf("caller CALL_CLOSED %q, want 488 Not Acceptable Here", closed.Param)
			}
			in := mustEvent(t, "callee", callee, "CALL_CLOSED")
			t.Logf("callee CALL_CLOSED %q", in.Param)
			var final []string
			for _, m := range callee.SIPTrace() {
				if m.Sent && !m.IsRequest() && m.Method() == "INVITE" {
					final = append(final, m.FirstLine())
					if m.Body() != "" {
						t.Errorf("callee's %s carries a body", m.FirstLine())
					}
				}
			}
			if len(final) != 1 || final[0] != "SIP/2.0 488 Not Acceptable Here" {
				t.Errorf("callee's responses to the INVITE: %q", final)
			}
			for _, ev := range callee.Events() {
				if ev.Type == "CALL_ESTABLISHED" {
					t.Errorf("callee established a call it should refuse")
				}
			}
		})
	}
}

// TestBaresipSRTPBestEffort: mediaenc=srtp offers RTP/AVP with a=crypto;
// a best-effort answerer answers RTP/AVP with a=crypto and both encrypt, a
// plain answerer answers without a=crypto and the call is plain RTP. A
// best-effort answerer takes an RTP/SAVP offer and answers RTP/SAVP. Audio
// flows each time.
func TestBaresipSRTPBestEffort(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	for _, c := range []struct {
		name, caller, callee string
		proto                string // of offer and answer
		srtp                 bool
	}{
		{"srtp-to-srtp", "srtp", "srtp", "RTP/AVP", true},
		{"srtp-to-plain", "srtp", "", "RTP/AVP", false},
		{"mand-to-srtp", "srtp-mand", "srtp", "RTP/SAVP", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			callee := StartBaresip(t, BaresipOptions{User: "callee", MediaEnc: c.callee, AutoAnswer: true, ToneHz: 500})
			caller := StartBaresip(t, BaresipOptions{User: "caller", MediaEnc: c.caller, ToneHz: 900})
			bsCall(t, caller, callee, callee.AOR(), 2*time.Second)
			offer := onlySDP(t, "offer", caller.SentSDPs())
			answer := onlySDP(t, "answer", callee.SentSDPs())
			for _, s := range []struct{ what, sdp string }{{"offer", offer}, {"answer", answer}} {
				m := sdpLines(s.sdp, "m=audio ")
				if len(m) != 1 || strings.Fields(m[0])[2] != c.proto {
					t.Errorf("%s m= lines %q, want one %s", s.what, m, c.proto)
				}
			}
			if n := len(sdpLines(offer, "a=crypto:")); n != 1 {
				t.Errorf("offer has %d a=crypto lines, want 1", n)
			}
			if n, want := len(sdpLines(answer, "a=crypto:")), map[bool]int{true: 1, false: 0}[c.srtp]; n != want {
				t.Errorf("answer has %d a=crypto lines, want %d", n, want)
			}
			if c.srtp {
				wantMenc(t, "caller", caller)
				wantMenc(t, "callee", callee)
			} else {
				noMenc(t, "caller", caller)
				noMenc(t, "callee", callee)
			}
			checkRecording(t, "caller", onlyRecording(t, "caller", caller), 500, 900)
			checkRecording(t, "callee", onlyRecording(t, "callee", callee), 900, 500)
		})
	}
}

// TestBaresipWideband: G.722 and Opus calls between two baresips carry
// tones above 4 kHz (5 and 6 kHz), which a narrowband call cannot; sndfile
// records at the codec's rate (16000 for G.722, 48000 for Opus).
func TestBaresipWideband(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	for _, c := range []struct {
		codec   string
		rate    int
		rtpmap  string
		fmtp    string // "" for none
		payload string
	}{
		{"G722", 16000, "a=rtpmap:9 G722/8000", "", "9"},
		{"opus", 48000, "a=rtpmap:96 opus/48000/2", "a=fmtp:96 stereo=0;sprop-stereo=0", "96"},
	} {
		t.Run(c.codec, func(t *testing.T) {
			// The callee's SampleRate defaults to its first codec's rate.
			callee := StartBaresip(t, BaresipOptions{User: "callee", Codecs: []string{c.codec}, AutoAnswer: true, ToneHz: 5000})
			caller := StartBaresip(t, BaresipOptions{User: "caller", Codecs: []string{c.codec}, SampleRate: c.rate, ToneHz: 6000})
			if callee.SampleRate() != c.rate {
				t.Errorf("callee SampleRate %d, want the default %d", callee.SampleRate(), c.rate)
			}
			bsCall(t, caller, callee, callee.AOR(), 2500*time.Millisecond)
			offer := onlySDP(t, "offer", caller.SentSDPs())
			m := sdpLines(offer, "m=audio ")
			if len(m) != 1 || !strings.HasSuffix(m[0], " RTP/AVP "+c.payload+" 101") {
				t.Errorf("offer m= lines %q, want payload types %s 101", m, c.payload)
			}
			if !strings.Contains(offer, c.rtpmap+"\r\n") {
				t.Errorf("offer lacks %q:\n%s", c.rtpmap, offer)
			}
			if c.fmtp != "" && !strings.Contains(offer, c.fmtp+"\r\n") {
				t.Errorf("offer lacks %q:\n%s", c.fmtp, offer)
			}
			if !strings.Contains(offer, "a=rtpmap:101 telephone-event/8000\r\n") {
				t.Errorf("offer lacks telephone-event/8000:\n%s", offer)
			}
			checkRecordingAt(t, "caller", onlyRecording(t, "caller", caller), c.rate, 5000, 6000)
			checkRecordingAt(t, "callee", onlyRecording(t, "callee", callee), c.rate, 6000, 5000)
		})
	}
}

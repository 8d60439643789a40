package peers

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// offerToBaresip sends one INVITE carrying sdp over UDP straight to b's SIP
// port, waits for the final response, ACKs it, and hangs up with BYE if it
// was a 2xx. It returns the final status code and the response's body. It is
// what a softphone under test would send, made by hand so that the offer can
// be anything.
func offerToBaresip(t *testing.T, b *Baresip, sdp string, during func()) (int, string) {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst, err := net.ResolveUDPAddr("udp", net.JoinHostPort(b.IP(), strconv.Itoa(b.SIPPort())))
	if err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr().String()
	target := "sip:" + b.opts.User + "@" + dst.String()
	callID := fmt.Sprintf("offer-%d@127.0.0.1", time.Now().UnixNano())
	send := func(method, ruri, branch, toTag string, cseq int, body string) {
		to := "<" + target + ">"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		ctype := ""
		if body != "" {
			ctype = "Content-Type: application/sdp\r\n"
		}
		msg := method + " " + ruri + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK" + branch + ";rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:probe@" + local + ">;tag=probe1\r\n" +
			"To: " + to + "\r\n" +
			"Call-ID: " + callID + "\r\n" +
			"CSeq: " + strconv.Itoa(cseq) + " " + method + "\r\n" +
			"Contact: <sip:probe@" + local + ">\r\n" +
			ctype +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
		if _, err := c.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
	}
	// read returns the next response to method with a final status (>= 200).
	read := func(method string) (code int, toTag, body string) {
		buf := make([]byte, 65536)
		deadline := time.Now().Add(5 * time.Second)
		for {
			c.SetReadDeadline(deadline)
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				t.Fatalf("waiting for the final response to %s: %v\n--- baresip log ---\n%s", method, err, b.Log())
			}
			m := BaresipSIPMessage{Text: string(buf[:n])}
			if m.IsRequest() || m.Method() != method || m.StatusCode() < 200 {
				continue // provisional, or a retransmission of something else
			}
			for _, l := range strings.Split(m.Text, "\r\n") {
				if name, v, ok := strings.Cut(l, ":"); ok && (strings.EqualFold(name, "To") || name == "t") {
					if _, tag, ok := strings.Cut(v, ";tag="); ok {
						toTag, _, _ = strings.Cut(tag, ";")
					}
				}
			}
			return m.StatusCode(), toTag, m.Body()
		}
	}
	send("INVITE", target, "inv1", "", 1, sdp)
	code, toTag, body := read("INVITE")
	if code >= 300 {
		send("ACK", target, "inv1", toTag, 1, "") // same branch: part of the INVITE transaction
		return code, body
	}
	// baresip's Contact is on the same address; the Request-URI need not match it exactly.
	send("ACK", target, "ack1", toTag, 1, "")
	if during != nil {
		during()
	}
	send("BYE", target, "bye1", toTag, 2, "")
	if c, _, _ := read("BYE"); c != 200 {
		t.Errorf("BYE answered %d", c)
	}
	return code, body
}

// probeOffer builds an audio offer on RTP port 4000 of 127.0.0.1 with the
// given m= line tail (profile and payload types) and attribute lines; the
// test puts its own port in place of 4000.
func probeOffer(proto string, attrs ...string) string {
	s := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 " + proto + "\r\n"
	for _, a := range attrs {
		s += a + "\r\n"
	}
	return s
}

func inlineKey(n int) string {
	k := make([]byte, n)
	rand.Read(k)
	return "inline:" + base64.StdEncoding.EncodeToString(k)
}

// TestBaresipAnswers: what baresip answers to offers a softphone may send,
// crafted by hand: which crypto suite it picks from several, a short-tag
// or AEAD suite alone, a broken key, and Opus with telephone-event at 48000.
func TestBaresipAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	cases := []struct {
		name     string
		opts     BaresipOptions
		offer    string
		code     int
		want     []string // lines the answer must have
		wantNone []string // line prefixes it must not have
		// rtpSize is the size of every RTP packet baresip sends (20 ms of
		// PCMU: 172 plain, 176 with a 32-bit tag, 182 with an 80-bit tag,
		// 188 with AEAD's 16-byte tag); 0 leaves it unchecked.
		rtpSize int
	}{
		{"several-suites", BaresipOptions{MediaEnc: "srtp"},
			probeOffer("RTP/AVP 0",
				"a=crypto:1 AES_CM_128_HMAC_SHA1_32 "+inlineKey(30),
				"a=crypto:2 AES_CM_128_HMAC_SHA1_80 "+inlineKey(30),
				"a=crypto:3 AEAD_AES_128_GCM "+inlineKey(28)),
			200, []string{"m=audio * RTP/AVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:*"}, []string{"a=crypto:2", "a=crypto:3"}, 176},
		{"gcm-only", BaresipOptions{MediaEnc: "srtp-mand"},
			probeOffer("RTP/SAVP 0", "a=crypto:7 AEAD_AES_256_GCM "+inlineKey(44)),
			200, []string{"m=audio * RTP/SAVP 0", "a=crypto:7 AEAD_AES_256_GCM inline:*"}, nil, 188},
		// Quirk of baresip 1.0: an RTP/SAVP offer without a usable
		// a=crypto is accepted under srtp-mand; the answer carries a key of
		// its own, yet baresip sends plain RTP (172 bytes). It does not
		// refuse with 488 as it does RTP/AVP offers.
		{"unknown-suite-savp", BaresipOptions{MediaEnc: "srtp-mand"},
			probeOffer("RTP/SAVP 0", "a=crypto:1 F8_128_HMAC_SHA1_80 "+inlineKey(30)),
			200, []string{"m=audio * RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:*"}, nil, 172},
		{"savp-no-crypto", BaresipOptions{MediaEnc: "srtp-mand"},
			probeOffer("RTP/SAVP 0"),
			200, []string{"m=audio * RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:*"}, nil, 172},
		// A suite it knows with a 20-byte key instead of 30: accepted, and
		// baresip sends SRTP (182 bytes) keyed with what it made of it.
		{"short-key-savp", BaresipOptions{MediaEnc: "srtp-mand"},
			probeOffer("RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "+inlineKey(20)),
			200, []string{"m=audio * RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:*"}, nil, 182},
		// Baresip has telephone-event only at 8000: offered at 48000 alone
		// it is left out of the answer; offered at both clocks the 8000 one
		// is kept.
		{"opus-te48000", BaresipOptions{Codecs: []string{"opus"}},
			probeOffer("RTP/AVP 111 0 101", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1",
				"a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/48000", "a=fmtp:101 0-16"),
			200, []string{"m=audio * RTP/AVP 111", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 stereo=0;sprop-stereo=0"},
			[]string{"a=rtpmap:101", "a=rtpmap:0 "}, 0},
		{"opus-te-both", BaresipOptions{Codecs: []string{"opus"}},
			probeOffer("RTP/AVP 111 101 100", "a=rtpmap:111 opus/48000/2",
				"a=rtpmap:101 telephone-event/48000", "a=fmtp:101 0-16", "a=rtpmap:100 telephone-event/8000", "a=fmtp:100 0-16"),
			200, []string{"m=audio * RTP/AVP 111 100", "a=rtpmap:100 telephone-event/8000"}, []string{"a=rtpmap:101"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.User, c.opts.AutoAnswer = "callee", true
			b := StartBaresip(t, c.opts)
			rtp, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer rtp.Close()
			port := strconv.Itoa(rtp.LocalAddr().(*net.UDPAddr).Port)
			offer := strings.Replace(c.offer, "m=audio 4000 ", "m=audio "+port+" ", 1)
			var sizes []int
			code, answer := offerToBaresip(t, b, offer, func() { sizes = rtpSizes(rtp, 5) })
			t.Logf("RTP packet sizes from baresip: %v", sizes)
			if len(sizes) == 0 {
				t.Errorf("no RTP from baresip")
			}
			for _, n := range sizes {
				if c.rtpSize != 0 && n != c.rtpSize {
					t.Errorf("RTP packet of %d bytes, want %d", n, c.rtpSize)
				}
			}
			t.Logf("offer:\n%sanswer %d:\n%s", c.offer, code, answer)
			if code != c.code {
				t.Fatalf("answered %d, want %d", code, c.code)
			}
			lines := strings.Split(normaliseSDP(answer), "\n")
			for _, w := range c.want {
				if !containsLine(lines, w) {
					t.Errorf("answer lacks %q", w)
				}
			}
			for _, p := range c.wantNone {
				for _, l := range lines {
					if strings.HasPrefix(l, p) {
						t.Errorf("answer has %q", l)
					}
				}
			}
		})
	}
}

// rtpSizes reads up to n RTP packets (not RTCP) from c within 2 s and
// returns their sizes.
func rtpSizes(c net.PacketConn, n int) []int {
	var out []int
	buf := make([]byte, 2048)
	deadline := time.Now().Add(2 * time.Second)
	for len(out) < n {
		c.SetReadDeadline(deadline)
		k, _, err := c.ReadFrom(buf)
		if err != nil {
			break
		}
		if k >= 12 && buf[0]>>6 == 2 && (buf[1]&0x7f < 64 || buf[1]&0x7f > 95) {
			out = append(out, k)
		}
	}
	return out
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

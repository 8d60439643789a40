package sdp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	te := func(pt uint8, rate int, fmtp string) Format {
		return Format{PT: pt, Name: "telephone-event", Rate: rate, Channels: 1, Fmtp: fmtp}
	}
	tests := []struct {
		file string
		want Media
	}{
		{"baresip.offer.sdp", Media{Addr: "192.168.1.20", Port: 10366, DTMFPT: 101, Ptime: 20, RTCPPort: 10367,
			Formats: []Format{pcmu(), pcma(), te(101, 8000, "0-15")}}},
		// No rtpmap for 0, 8 and 18: RFC 3551 static types. 96 is opus here and VP8 in the
		// video line; only the audio line's rtpmap counts.
		{"linphone-video.offer.sdp", Media{Addr: "192.168.1.33", Port: 7078, DTMFPT: 100, Formats: []Format{
			{96, "opus", 48000, 2, "useinbandfec=1"}, {97, "speex", 16000, 1, "vbr=on"}, {98, "speex", 8000, 1, "vbr=on"},
			pcmu(), pcma(), {18, "G729", 8000, 1, "annexb=yes"}, te(101, 48000, ""), te(99, 16000, ""), te(100, 8000, ""),
		}}},
		{"hold-oldstyle.offer.sdp", Media{Addr: "0.0.0.0", Port: 17176, DTMFPT: 101, Ptime: 20,
			Formats: []Format{pcmu(), te(101, 8000, "0-16")}}},
		{"session-dir.offer.sdp", Media{Addr: "198.51.100.2", Port: 30000, DTMFPT: -1, Formats: []Format{{0, "pcmu", 8000, 1, ""}}}},
		{"session-recvonly.offer.sdp", Media{Addr: "198.51.100.1", Port: 30000, DTMFPT: -1, Dir: RecvOnly, Formats: []Format{pcmu()}}},
		{"ipv6.offer.sdp", Media{Addr: "2001:db8::20", Port: 10400, DTMFPT: 101, Ptime: 20, Formats: []Format{pcma(), pcmu(), te(101, 8000, "0-15")}}},
		{"inactive.offer.sdp", Media{Addr: "203.0.113.5", Port: 12040, DTMFPT: 101, Ptime: 20, MaxPtime: 150, Dir: Inactive, Formats: []Format{pcma(), te(101, 8000, "0-16")}}},
		// The first audio line is RTP/SAVP, which Parse takes now (SDES).
		{"srtp-fallback.offer.sdp", Media{Proto: "RTP/SAVP", Addr: "192.0.2.77", Port: 7078, DTMFPT: 101, Formats: []Format{pcmu(), pcma(), te(101, 8000, "0-15")},
			Crypto: []string{"1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(readSDP(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Proto == "" {
				tt.want.Proto = "RTP/AVP"
			}
			if !reflect.DeepEqual(*m, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", *m, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
	tests := []struct{ name, sdp, want string }{
		{"empty", "", "empty"},
		{"blank", " \r\n\r\n", "empty"},
		{"not SDP", "hello world", "malformed"},
		{"SIP message", "INVITE sip:bob@example.com SIP/2.0\r\n", "malformed"},
		{"only v=", "v=0\r\n", "no o= or t= line"},
		{"no t=", head, "no o= or t= line"},
		{"no m=", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\n", "no audio stream"},
		{"video only", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 31\r\n", "no audio stream"},
		{"SAVPF only", string(readSDP(t, "webrtc.offer.sdp")), "only offered over UDP/TLS/RTP/SAVPF"},
		{"no c=", head + "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "no c= line"},
		{"c= without address", head + "c=IN IP4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", `c= address ""`},
		{"hostname", head + "c=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "not an IP4 literal"},
		{"multicast TTL", head + "c=IN IP4 224.2.17.12/127\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "not an IP4 literal"},
		{"IPv6 as IP4", head + "c=IN IP4 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", "not an IP4 literal"},
		{"port too big", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n", "port"},
		{"port not a number", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n", "port"},
		{"PT not a number", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP PCMU\r\n", `payload type "PCMU"`},
		{"PT too big", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 128\r\n", `payload type "128"`},
		{"no PT", head + "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n", "no payload types"},
		{"lines out of order", head + "t=0 0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.sdp))
			if err == nil {
				t.Fatalf("no error: %+v", m)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestParseLenient covers what real peers get wrong that we accept anyway.
func TestParseLenient(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\n"
	tests := []struct{ name, sdp string }{
		{"no final line end", head + "m=audio 4000 RTP/AVP 0"},
		{"dynamic PT without rtpmap", head + "m=audio 4000 RTP/AVP 97 0\n"},
		{"broken rtpmap", head + "m=audio 4000 RTP/AVP 97 0\na=rtpmap:97 opus\na=rtpmap:0\n"},
		{"silly ptime", head + "m=audio 4000 RTP/AVP 0\na=ptime:100000\na=rtcp:x\n"},
		{"rejected stream without c=", "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 0 RTP/AVP 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.sdp))
			if err != nil {
				t.Fatal(err)
			}
			if m.Ptime != 0 || m.RTCPPort != 0 {
				t.Errorf("bad ptime/rtcp not ignored: %+v", m)
			}
			if f := m.Formats[len(m.Formats)-1]; f != pcmu() {
				t.Errorf("last format %+v, want static PCMU", f)
			}
		})
	}
}

func TestProtect(t *testing.T) {
	err := protect(func() error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v", err)
	}
	want := errors.New("plain")
	if err := protect(func() error { return want }); err != want {
		t.Errorf("err = %v", err)
	}
}

package sdp

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
)

// wideLocal offers what the default puts first: Opus and G.722 before G.711.
func wideLocal() Local {
	l := testLocal()
	l.Codecs = []string{"opus", "g722", "PCMU", "PCMA"}
	return l
}

func TestOfferWidebandGolden(t *testing.T) {
	sdes := wideLocal()
	sdes.Encryption, sdes.Crypto = EncryptionSDES, sdesLocal(EncryptionSDES, 1).Crypto
	req := testLocal()
	req.Encryption, req.Crypto = EncryptionSDESRequired, []srtp.Crypto{testKey(1, srtp.AEADAES256GCM, 3), testKey(2, srtp.AESCM128HMACSHA180, 9)}
	for name, l := range map[string]Local{"offer-wideband": wideLocal(), "offer-wideband-sdes": sdes, "offer-sdes-required": req} {
		b, err := Offer(l)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".sdp", b)
		// Our own offer must parse back to what we meant.
		m, err := Parse(b)
		if err != nil || m.Proto != l.Encryption.proto() || len(m.Crypto) != len(l.Crypto) {
			t.Errorf("%s: %v %+v", name, err, m)
		}
	}
}

// TestOfferPTCollision: a telephone-event PT that is opus's default moves opus, and
// telephone-event/48000 takes a free PT.
func TestOfferPTCollision(t *testing.T) {
	l := wideLocal()
	l.DTMFPT = 111
	b, err := Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint8]bool{}
	var opus, te8, te48 int
	for _, f := range m.Formats {
		if seen[f.PT] {
			t.Fatalf("PT %d twice:\n%s", f.PT, b)
		}
		seen[f.PT] = true
		switch {
		case f.Name == "opus":
			opus = int(f.PT)
		case f.Name == "telephone-event" && f.Rate == 8000:
			te8 = int(f.PT)
		case f.Name == "telephone-event" && f.Rate == 48000:
			te48 = int(f.PT)
		}
	}
	if te8 != 111 || opus < 96 || opus == 111 || te48 < 96 {
		t.Errorf("opus %d, te/8000 %d, te/48000 %d\n%s", opus, te8, te48, b)
	}
}

func TestAnswerWideband(t *testing.T) {
	opus := func(pt uint8, fmtp string) Format {
		return Format{PT: pt, Name: "opus", Rate: 48000, Channels: 2, Fmtp: fmtp}
	}
	g722 := Format{PT: 9, Name: "G722", Rate: 8000, Channels: 1}
	narrow := testLocal()
	g722Local := testLocal()
	g722Local.Codecs = []string{"G722", "PCMU"}
	head := "v=0\r\no=- 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
	tests := []struct {
		name   string
		offer  []byte
		local  Local
		codec  Format
		recvPT int
		dtmf   int // DTMFPT
		rate   int // DTMFRate
	}{
		// baresip 1.0 offers opus at 96 with its stereo wishes and telephone-event at 8000 only.
		{"baresip opus", readSDP(t, "baresip-srtp.offer.sdp"), wideLocal(), opus(96, "stereo=1;sprop-stereo=1"), 96, 101, 8000},
		{"baresip G722", readSDP(t, "baresip-srtp.offer.sdp"), g722Local, g722, 9, 101, 8000},
		{"baresip narrowband", readSDP(t, "baresip-srtp.offer.sdp"), narrow, pcmu(), 0, 101, 8000},
		// Linphone has telephone-event at 48000, 16000 and 8000: opus takes the 48000 one.
		{"linphone opus", readSDP(t, "linphone-video.offer.sdp"), wideLocal(), opus(96, "useinbandfec=1"), 96, 101, 48000},
		{"linphone G722 not offered", readSDP(t, "linphone-video.offer.sdp"), g722Local, pcmu(), 0, 100, 8000},
		{"static G722 without rtpmap", []byte(head + "m=audio 4000 RTP/AVP 9 0\r\n"), wideLocal(), g722, 9, -1, 0},
		{"mono opus is not opus", []byte(head + "m=audio 4000 RTP/AVP 98 0\r\na=rtpmap:98 opus/48000/1\r\n"), wideLocal(), pcmu(), 0, -1, 0},
		{"G722 at 16000 is not RFC 3551's", []byte(head + "m=audio 4000 RTP/AVP 98 8\r\na=rtpmap:98 G722/16000\r\n"), wideLocal(), pcma(), 8, -1, 0},
		{"OPUS in capitals", []byte(head + "m=audio 4000 RTP/AVP 120\r\na=rtpmap:120 OPUS/48000/2\r\n"), wideLocal(), opus(120, ""), 120, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, n, err := Answer(tt.offer, tt.local)
			if err != nil {
				t.Fatal(err)
			}
			if n.Codec != tt.codec || n.RecvPT != tt.recvPT || n.DTMFPT != tt.dtmf || n.DTMFRate != tt.rate || n.RecvDTMFPT != 0 {
				t.Errorf("negotiated %+v\nwant codec %+v recv %d dtmf %d/%d", n, tt.codec, tt.recvPT, tt.dtmf, tt.rate)
			}
			m, err := Parse(ans)
			if err != nil {
				t.Fatal(err)
			}
			want := []Format{tt.codec}
			if tt.codec.Name == "opus" {
				want[0].Fmtp = "minptime=10;useinbandfec=1" // ours, not an echo of theirs
			}
			if tt.dtmf >= 0 {
				want = append(want, m.Formats[len(m.Formats)-1])
				if f := want[1]; int(f.PT) != tt.dtmf || f.Rate != tt.rate || f.Name != "telephone-event" {
					t.Errorf("answer's telephone-event %+v", f)
				}
			}
			if !reflect.DeepEqual(m.Formats, want) {
				t.Errorf("answer formats %+v, want %+v\n%s", m.Formats, want, ans)
			}
		})
	}
}

func TestAcceptWideband(t *testing.T) {
	tests := []struct {
		name   string
		answer []byte
		want   Negotiated
	}{
		// The answer renumbers opus and telephone-event/48000: we send with its numbers and
		// receive with ours (111, 110).
		{"renumbered", answerTo("m=audio 5000 RTP/AVP 96 97", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1; usedtx=1", "a=rtpmap:97 telephone-event/48000"),
			Negotiated{Codec: Format{96, "opus", 48000, 2, "useinbandfec=1; usedtx=1"}, RecvPT: 111, DTMFPT: 97, DTMFRate: 48000, RecvDTMFPT: 110}},
		{"opus with telephone-event/8000", answerTo("m=audio 5000 RTP/AVP 111 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"),
			Negotiated{Codec: Format{111, "opus", 48000, 2, ""}, RecvPT: 111, DTMFPT: 101, DTMFRate: 8000}},
		{"G722", answerTo("m=audio 5000 RTP/AVP 9 101", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000"),
			Negotiated{Codec: Format{9, "G722", 8000, 1, ""}, RecvPT: 9, DTMFPT: 101, DTMFRate: 8000}},
		{"G722 with telephone-event/48000 only", answerTo("m=audio 5000 RTP/AVP 9 110", "a=rtpmap:110 telephone-event/48000"),
			Negotiated{Codec: Format{9, "G722", 8000, 1, ""}, RecvPT: 9, DTMFPT: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Accept(wideLocal(), tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Proto, want.RemoteAddr, want.RemotePort, want.RemoteRTCPPort, want.Ptime = "RTP/AVP", "198.51.100.9", 5000, 5001, 20
			if !reflect.DeepEqual(n, want) {
				t.Errorf("\n got %+v\nwant %+v", n, want)
			}
		})
	}
	if _, err := Accept(testLocal(), answerTo("m=audio 5000 RTP/AVP 111", "a=rtpmap:111 opus/48000/2")); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("opus we did not offer: err = %v", err)
	}
}

// TestRoundTripWideband: an Opus-first offer answered by a G.722/G.711 peer.
func TestRoundTripWideband(t *testing.T) {
	alice, bob := wideLocal(), testLocal()
	bob.Codecs = []string{"PCMU", "G722"}
	answer, na, nb := exchange(t, alice, bob)
	g722 := Format{PT: 9, Name: "G722", Rate: 8000, Channels: 1}
	if na.Codec != g722 || nb.Codec != g722 || na.RecvPT != 9 || na.DTMFPT != 101 || na.DTMFRate != 8000 || nb.DTMFRate != 8000 {
		t.Errorf("alice %+v\nbob %+v", na, nb)
	}
	if strings.Contains(string(answer), "48000") {
		t.Errorf("answer keeps the 48 kHz telephone-event:\n%s", answer)
	}
}

func TestOfferCodecNames(t *testing.T) {
	l := testLocal()
	l.Codecs = []string{"Opus", "g722", "pcmu"}
	b, err := Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a=rtpmap:111 opus/48000/2", "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:110 telephone-event/48000"} {
		if !strings.Contains(string(b), want+"\r\n") {
			t.Errorf("offer lacks %q:\n%s", want, b)
		}
	}
	l.Codecs = []string{"opus", "OPUS"}
	if _, err := Offer(l); err == nil {
		t.Error("opus twice: no error")
	}
}

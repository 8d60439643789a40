package sdp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// answerTo builds a minimal answer around an m= line and its attributes.
func answerTo(lines ...string) []byte {
	return []byte("v=0\r\no=- 9 9 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\n" + strings.Join(lines, "\r\n") + "\r\n")
}

func TestAccept(t *testing.T) {
	tests := []struct {
		name   string
		answer []byte
		local  Local
		want   Negotiated
	}{
		{"baresip", readSDP(t, "baresip.answer-to-us.sdp"), testLocal(),
			Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "192.168.1.20", RemotePort: 10370, RemoteRTCPPort: 10371, Ptime: 20}},
		{"sipp", readSDP(t, "sipp-uas.answer-to-us.sdp"), testLocal(),
			Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "127.0.0.1", RemotePort: 6002, RemoteRTCPPort: 6003, Ptime: 20}},
		{"asterisk", readSDP(t, "asterisk.answer-to-us.sdp"), testLocal(),
			Negotiated{Codec: pcma(), DTMFPT: 101, RemoteAddr: "203.0.113.5", RemotePort: 12044, RemoteRTCPPort: 12045, Ptime: 30}},
		{"freeswitch sendonly", readSDP(t, "freeswitch.answer-to-us.sdp"), testLocal(),
			Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "198.51.100.7", RemotePort: 29310, RemoteRTCPPort: 29311, Ptime: 20, LocalDir: RecvOnly, Hold: true}},
		{"we hold, they accept", answerTo("m=audio 5000 RTP/AVP 8", "a=recvonly"), func() Local { l := testLocal(); l.Dir = SendOnly; return l }(),
			Negotiated{Codec: pcma(), DTMFPT: -1, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20, LocalDir: SendOnly}},
		{"we offered inactive", answerTo("m=audio 5000 RTP/AVP 8", "a=inactive"), func() Local { l := testLocal(); l.Dir = Inactive; return l }(),
			Negotiated{Codec: pcma(), DTMFPT: -1, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20, LocalDir: Inactive}},
		{"old-style hold answer", answerTo("m=audio 5000 RTP/AVP 0", "c=IN IP4 0.0.0.0"), testLocal(),
			Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "0.0.0.0", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20, LocalDir: RecvOnly, Hold: true}},
		// RFC 3264 6.1 lets an answer list formats that were not offered; they are skipped.
		// PCMU beside PCMA: the far end may send it too (RFC 3264 5.1), RecvAlt.
		{"extra formats", answerTo("m=audio 5000 RTP/AVP 18 8 0 101", "a=rtpmap:101 telephone-event/8000", "a=fmtp:8 bogus=1"), testLocal(),
			Negotiated{Codec: pcma(), RecvAlt: pcmu(), DTMFPT: 101, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20}},
		{"both laws, PCMU first", answerTo("m=audio 5000 RTP/AVP 0 8"), testLocal(),
			Negotiated{Codec: pcmu(), RecvAlt: pcma(), DTMFPT: -1, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20}},
		{"both laws, PCMA we did not offer", answerTo("m=audio 5000 RTP/AVP 0 8"), func() Local { l := testLocal(); l.Codecs = []string{"PCMU"}; return l }(),
			Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20}},
		// The answer renumbers telephone-event: we send with its 96, and it sends us our 101.
		{"telephone-event renumbered", answerTo("m=audio 5000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000"), testLocal(),
			Negotiated{Codec: pcmu(), DTMFPT: 96, RecvDTMFPT: 101, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20}},
		{"DTMF we did not offer", answerTo("m=audio 5000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"), func() Local { l := testLocal(); l.DTMF = false; return l }(),
			Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "198.51.100.9", RemotePort: 5000, RemoteRTCPPort: 5001, Ptime: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Accept(tt.local, tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			if want := plain(tt.want); !reflect.DeepEqual(n, want) {
				t.Errorf("\n got %+v\nwant %+v", n, want)
			}
		})
	}
}

func TestAcceptBad(t *testing.T) {
	onlyPCMU := testLocal()
	onlyPCMU.Codecs = []string{"PCMU"}
	tests := []struct {
		name     string
		answer   []byte
		local    Local
		noCodec  bool   // the error wraps ErrNoCommonCodec
		contains string // and mentions this
	}{
		{"codec not offered", answerTo("m=audio 5000 RTP/AVP 18"), testLocal(), true, "G729/8000"},
		{"PCMA when only PCMU was offered", answerTo("m=audio 5000 RTP/AVP 8"), onlyPCMU, true, "PCMA/8000"},
		{"remapped static PT", answerTo("m=audio 5000 RTP/AVP 0", "a=rtpmap:0 G729/8000"), testLocal(), true, "G729/8000"},
		{"only telephone-event", answerTo("m=audio 5000 RTP/AVP 101", "a=rtpmap:101 telephone-event/8000"), testLocal(), true, "telephone-event"},
		{"rejected", answerTo("m=audio 0 RTP/AVP 0"), testLocal(), true, "port 0"},
		{"no audio", answerTo("m=video 5000 RTP/AVP 31"), testLocal(), false, "no audio"},
		{"SRTP", answerTo("m=audio 5000 RTP/SAVP 0"), testLocal(), false, "RTP/SAVP"},
		{"garbage", []byte("SIP/2.0 200 OK\r\n"), testLocal(), false, "malformed"},
		{"missing c=", []byte("v=0\r\no=- 9 9 IN IP4 198.51.100.9\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n"), testLocal(), false, "no c= line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Accept(tt.local, tt.answer)
			if err == nil {
				t.Fatalf("no error: %+v", n)
			}
			if errors.Is(err, ErrNoCommonCodec) != tt.noCodec || !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("err = %v; want ErrNoCommonCodec %v and %q", err, tt.noCodec, tt.contains)
			}
		})
	}
}

// TestAcceptOtherCodecs: the answer's codecs besides the one settled (and the other G.711 law)
// that our offer listed are RecvOther, in the answer's order, with our offer's payload types
// (the far end sends with the offer's numbers, RFC 3264 §6.1), whatever it numbered them;
// codecs we did not offer are not.
func TestAcceptOtherCodecs(t *testing.T) {
	l := testLocal()
	l.Codecs = []string{"opus", "G722", "PCMU", "PCMA"}
	norm, err := l.norm()
	if err != nil {
		t.Fatal(err)
	}
	ours := func(name string) Format {
		f, ok := offeredCodec(offerFormats(norm), name)
		if !ok {
			t.Fatalf("our offer has no %s", name)
		}
		return f
	}
	for _, c := range []struct {
		name       string
		answer     []byte
		codec, alt string
		wantOther  []string
	}{
		{"G722 first", answerTo("m=audio 5000 RTP/AVP 9 0 8 101", "a=rtpmap:101 telephone-event/8000"), "G722", "", []string{"PCMU", "PCMA"}},
		{"PCMU first, G729 not offered, opus renumbered", answerTo("m=audio 5000 RTP/AVP 0 18 9 120", "a=rtpmap:120 opus/48000/2"), "PCMU", "", []string{"G722", "opus"}},
		{"both laws and G722", answerTo("m=audio 5000 RTP/AVP 8 0 9"), "PCMA", "PCMU", []string{"G722"}},
		{"one codec", answerTo("m=audio 5000 RTP/AVP 9"), "G722", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := Accept(l, c.answer)
			if err != nil {
				t.Fatal(err)
			}
			if n.Codec.Name != c.codec || n.RecvAlt.Name != c.alt {
				t.Fatalf("codec %s, RecvAlt %q; want %s, %q", n.Codec.Name, n.RecvAlt.Name, c.codec, c.alt)
			}
			var want []Format
			for _, name := range c.wantOther {
				want = append(want, ours(name))
			}
			if !reflect.DeepEqual(n.RecvOther, want) {
				t.Fatalf("RecvOther %+v, want %+v", n.RecvOther, want)
			}
		})
	}
}

// TestAcceptOtherEvents: an answer with telephone-event at 8000 and 48000 settles the one at
// the codec's clock and lists our offer's other one in RecvDTMFOther, which the far end uses
// once it switches to opus; an answer with one rate lists none.
func TestAcceptOtherEvents(t *testing.T) {
	l := testLocal()
	l.Codecs = []string{"opus", "G722", "PCMU"}
	norm, err := l.norm()
	if err != nil {
		t.Fatal(err)
	}
	var wide Format
	for _, f := range offerFormats(norm) {
		if isEvent(f) && f.Rate == 48000 {
			wide = f
		}
	}
	if wide.Name == "" {
		t.Fatal("our offer has no telephone-event/48000")
	}
	n, err := Accept(l, answerTo("m=audio 5000 RTP/AVP 9 120 101 121", "a=rtpmap:120 opus/48000/2",
		"a=rtpmap:101 telephone-event/8000", "a=rtpmap:121 telephone-event/48000"))
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec.Name != "G722" || n.DTMFPT != 101 || !reflect.DeepEqual(n.RecvDTMFOther, []int{int(wide.PT)}) {
		t.Fatalf("codec %s, DTMFPT %d, RecvDTMFOther %v; want G722, 101, [%d]", n.Codec.Name, n.DTMFPT, n.RecvDTMFOther, wide.PT)
	}
	n, err = Accept(l, answerTo("m=audio 5000 RTP/AVP 9 101", "a=rtpmap:101 telephone-event/8000"))
	if err != nil || len(n.RecvDTMFOther) != 0 {
		t.Fatalf("one rate: RecvDTMFOther %v, %v; want none", n.RecvDTMFOther, err)
	}
}

package sdp

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func testLocal() Local {
	return Local{SessionID: 4242, SessionVersion: 1, Addr: "192.0.2.10", Port: 40000, Codecs: []string{"PCMU", "PCMA"}, DTMF: true}
}

func local6() Local { l := testLocal(); l.Addr = "2001:db8::10"; return l }

// readSDP reads a testdata file and gives it CRLF line ends, as on the wire; the files use
// LF so that they diff well.
func readSDP(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// golden compares got with testdata/name (CRLF-insensitive) or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	lf := strings.ReplaceAll(string(got), "\r\n", "\n")
	if *update {
		if err := os.WriteFile(path, []byte(lf), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lf != string(want) {
		t.Errorf("%s differs:\n--- got\n%s--- want\n%s", name, lf, want)
	}
}

func pcmu() Format { return Format{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1} }

// plain fills in what every plain G.711 negotiation here has: RTP/AVP, the codec received
// with the PT it is sent with (static), and telephone-event at the codec's 8000 clock.
func plain(n Negotiated) Negotiated {
	n.Proto, n.RecvPT = "RTP/AVP", int(n.Codec.PT)
	if n.DTMFPT >= 0 {
		n.DTMFRate = 8000
	}
	return n
}
func pcma() Format { return Format{PT: 8, Name: "PCMA", Rate: 8000, Channels: 1} }

func TestAnswerGolden(t *testing.T) {
	sendonly := func(l Local) Local { l.Dir = SendOnly; return l }
	noDTMF := func(l Local) Local { l.DTMF = false; return l }
	tests := []struct {
		name, offer string
		local       Local
		want        Negotiated
		err         error
	}{
		{"baresip", "baresip", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "192.168.1.20", RemotePort: 10366, RemoteRTCPPort: 10367, Ptime: 20}, nil},
		{"baresip-nodtmf-hold", "baresip", sendonly(noDTMF(testLocal())), Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "192.168.1.20", RemotePort: 10366, RemoteRTCPPort: 10367, Ptime: 20, LocalDir: SendOnly}, nil},
		{"sipp-uac", "sipp-uac", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "127.0.0.1", RemotePort: 6000, RemoteRTCPPort: 6001, Ptime: 20}, nil},
		{"static-no-rtpmap", "static-no-rtpmap", testLocal(), Negotiated{Codec: pcma(), DTMFPT: -1, RemoteAddr: "10.0.0.42", RemotePort: 5004, RemoteRTCPPort: 5005, Ptime: 30}, nil},
		{"asterisk", "asterisk", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "203.0.113.5", RemotePort: 12040, RemoteRTCPPort: 12041, Ptime: 20}, nil},
		// The offerer's order wins over ours: FreeSWITCH lists PCMA before PCMU.
		{"freeswitch", "freeswitch", testLocal(), Negotiated{Codec: pcma(), DTMFPT: 101, RemoteAddr: "198.51.100.7", RemotePort: 24562, RemoteRTCPPort: 24563, Ptime: 20}, nil},
		{"webrtc", "webrtc", testLocal(), Negotiated{}, ErrNoCommonCodec},
		{"srtp-fallback", "srtp-fallback", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "192.0.2.77", RemotePort: 7080, RemoteRTCPPort: 7081, Ptime: 20}, nil},
		{"linphone-video", "linphone-video", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 100, RemoteAddr: "192.168.1.33", RemotePort: 7078, RemoteRTCPPort: 7079, Ptime: 20}, nil},
		{"video-first", "video-first", testLocal(), Negotiated{Codec: pcma(), DTMFPT: -1, RemoteAddr: "192.0.2.80", RemotePort: 49170, RemoteRTCPPort: 49171, Ptime: 20}, nil},
		{"hold-sendonly", "hold-sendonly", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "192.168.1.20", RemotePort: 10366, RemoteRTCPPort: 10367, Ptime: 20, LocalDir: RecvOnly, Hold: true}, nil},
		{"hold-oldstyle", "hold-oldstyle", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: 101, RemoteAddr: "0.0.0.0", RemotePort: 17176, RemoteRTCPPort: 17177, Ptime: 20, LocalDir: RecvOnly, Hold: true}, nil},
		{"inactive", "inactive", testLocal(), Negotiated{Codec: pcma(), DTMFPT: 101, RemoteAddr: "203.0.113.5", RemotePort: 12040, RemoteRTCPPort: 12041, Ptime: 20, LocalDir: Inactive, Hold: true}, nil},
		{"session-dir", "session-dir", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "198.51.100.2", RemotePort: 30000, RemoteRTCPPort: 30001, Ptime: 20}, nil},
		{"session-recvonly", "session-recvonly", testLocal(), Negotiated{Codec: pcmu(), DTMFPT: -1, RemoteAddr: "198.51.100.1", RemotePort: 30000, RemoteRTCPPort: 30001, Ptime: 20, LocalDir: SendOnly}, nil},
		{"ipv6", "ipv6", local6(), Negotiated{Codec: pcma(), DTMFPT: 101, RemoteAddr: "2001:db8::20", RemotePort: 10400, RemoteRTCPPort: 10401, Ptime: 20}, nil},
		{"no-common", "no-common", testLocal(), Negotiated{}, ErrNoCommonCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer := readSDP(t, tt.offer+".offer.sdp")
			ans, n, err := Answer(offer, tt.local)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if ans != nil {
					t.Errorf("answer %q with error", ans)
				}
				return
			}
			if want := plain(tt.want); !reflect.DeepEqual(n, want) {
				t.Errorf("negotiated\n got %+v\nwant %+v", n, want)
			}
			golden(t, tt.name+".answer.sdp", ans)

			// LF-only bodies must give the same answer.
			lf := []byte(strings.ReplaceAll(string(offer), "\r\n", "\n"))
			if ans2, _, err := Answer(lf, tt.local); err != nil || string(ans2) != string(ans) {
				t.Errorf("LF offer: err %v, answer differs: %q", err, ans2)
			}
		})
	}
}

func TestAnswerErrorDetail(t *testing.T) {
	for file, want := range map[string]string{
		"webrtc":    "UDP/TLS/RTP/SAVPF",
		"no-common": "G729/8000 GSM/8000 telephone-event/8000",
	} {
		_, _, err := Answer(readSDP(t, file+".offer.sdp"), testLocal())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", file, err, want)
		}
	}
}

func TestAnswerMalformed(t *testing.T) {
	for name, offer := range map[string]string{
		"empty":     "",
		"not sdp":   "hello world\r\n",
		"no c=":     "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"hostname":  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"bad port":  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
		"bad local": "",
	} {
		l := testLocal()
		if name == "bad local" {
			l.Addr, offer = "localhost", string(readSDP(t, "baresip.offer.sdp"))
		}
		if _, _, err := Answer([]byte(offer), l); err == nil || errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: err = %v, want a malformed-SDP error", name, err)
		}
	}
}

func TestOfferGolden(t *testing.T) {
	hold := local6()
	hold.Username, hold.SessionVersion, hold.Dir, hold.DTMF, hold.Codecs, hold.Ptime = "dialtone", 2, SendOnly, false, []string{"pcma"}, 30
	for name, l := range map[string]Local{"offer": testLocal(), "offer-hold6": hold} {
		b, err := Offer(l)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".sdp", b)
	}
}

func TestOfferErrors(t *testing.T) {
	for name, mod := range map[string]func(*Local){
		"addr":      func(l *Local) { l.Addr = "pbx.example.com" },
		"port":      func(l *Local) { l.Port = 0 },
		"codec":     func(l *Local) { l.Codecs = []string{"G729"} },
		"no codecs": func(l *Local) { l.Codecs = nil },
		"twice":     func(l *Local) { l.Codecs = []string{"PCMU", "pcmu"} },
		"dtmf pt":   func(l *Local) { l.DTMFPT = 8 },
		"ptime":     func(l *Local) { l.Ptime = 1000 },
		"dir":       func(l *Local) { l.Dir = 7 },
		"username":  func(l *Local) { l.Username = "a b" },
	} {
		l := testLocal()
		mod(&l)
		if b, err := Offer(l); err == nil {
			t.Errorf("%s: no error, offer %q", name, b)
		}
	}
}

// TestRoundTrip plays both sides: our offer, answered by our own Answer, accepted by Accept.
func TestRoundTrip(t *testing.T) {
	alice, bob := testLocal(), local6()
	bob.Codecs = []string{"PCMA", "PCMU"}
	_, na, nb := exchange(t, alice, bob)
	if nb.Codec != pcmu() || na.Codec != pcmu() || na.DTMFPT != 101 || nb.DTMFPT != 101 {
		t.Errorf("codec/DTMF: bob %+v alice %+v", nb, na)
	}
	if na.RemoteAddr != bob.Addr || nb.RemoteAddr != alice.Addr || na.RemotePort != bob.Port {
		t.Errorf("addresses: bob %+v alice %+v", nb, na)
	}
}

func TestDirection(t *testing.T) {
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		got, err := ParseDirection(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDirection(%q) = %v, %v", d, got, err)
		}
	}
	if _, err := ParseDirection("hold"); err == nil {
		t.Error("ParseDirection(hold) succeeded")
	}
	if s := Direction(9).String(); s != "Direction(9)" {
		t.Errorf("String() = %q", s)
	}
}

// exchange runs alice's offer through bob's Answer and alice's Accept: the answer and what each
// side negotiated.
func exchange(t *testing.T, alice, bob Local) (answer []byte, na, nb Negotiated) {
	t.Helper()
	offer, err := Offer(alice)
	if err != nil {
		t.Fatal(err)
	}
	answer, nb, err = Answer(offer, bob)
	if err != nil {
		t.Fatal(err)
	}
	if na, err = Accept(alice, answer); err != nil {
		t.Fatal(err)
	}
	return answer, na, nb
}

package sdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
)

// TestAnswerSRTPGolden answers real SDES offers: baresip 1.0 with mediaenc srtp (RTP/AVP
// with a=crypto), srtp-mand (RTP/SAVP) and srtp-mandf (RTP/SAVPF), captured from its
// INVITEs, and an offer with an RTP/SAVP line before an RTP/AVP fallback line.
func TestAnswerSRTPGolden(t *testing.T) {
	tests := []struct {
		name, offer string
		enc         Encryption
		port        int    // of the accepted stream
		proto       string // of the accepted stream, "" when refused
		err         error
	}{
		{"baresip-srtp-sdes", "baresip-srtp", EncryptionSDES, 31870, "RTP/AVP", nil},
		{"baresip-srtp-none", "baresip-srtp", EncryptionNone, 31870, "RTP/AVP", nil},
		{"baresip-srtp-required", "baresip-srtp", EncryptionSDESRequired, 31870, "RTP/AVP", nil},
		{"baresip-srtp-mand-sdes", "baresip-srtp-mand", EncryptionSDES, 31108, "RTP/SAVP", nil},
		{"baresip-srtp-mand-none", "baresip-srtp-mand", EncryptionNone, 0, "", ErrEncryptionOff},
		{"baresip-srtp-mandf-required", "baresip-srtp-mandf", EncryptionSDESRequired, 31652, "RTP/SAVPF", nil},
		{"srtp-fallback-sdes", "srtp-fallback", EncryptionSDES, 7078, "RTP/SAVP", nil},
		{"srtp-fallback-required", "srtp-fallback", EncryptionSDESRequired, 7078, "RTP/SAVP", nil},
		{"srtp-fallback-none", "srtp-fallback", EncryptionNone, 7080, "RTP/AVP", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sdesLocal(tt.enc, 0x21)
			l.Codecs = wideLocal().Codecs
			offer := readSDP(t, tt.offer+".offer.sdp")
			ans, n, err := Answer(offer, l)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if n.RemotePort != tt.port || n.Proto != tt.proto || (n.SRTP != nil) != (tt.enc != EncryptionNone) {
				t.Errorf("negotiated %+v", n)
			}
			if n.SRTP != nil && (n.SRTP.Remote.Tag != 1 || n.SRTP.Local.Tag != 1 || n.SRTP.Local.Suite != srtp.AESCM128HMACSHA180) {
				t.Errorf("keys %s / %s", n.SRTP.Local.Masked(), n.SRTP.Remote.Masked())
			}
			golden(t, tt.name+".answer.sdp", ans)
		})
	}
}

func TestAcceptCrypto(t *testing.T) {
	sdes, req := sdesLocal(EncryptionSDES, 1), sdesLocal(EncryptionSDESRequired, 1)
	theirs80 := testKey(1, srtp.AESCM128HMACSHA180, 0x55)
	theirs32 := testKey(2, srtp.AESCM128HMACSHA132, 0x66)
	tests := []struct {
		name   string
		local  Local
		answer []byte
		err    error
		want   *srtp.Keys
	}{
		{"tag 1", sdes, answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:"+theirs80.String()), nil, &srtp.Keys{Local: sdes.Crypto[0], Remote: theirs80}},
		{"tag 2", req, answerTo("m=audio 5000 RTP/SAVP 0", "a=crypto:"+theirs32.String()), nil, &srtp.Keys{Local: req.Crypto[1], Remote: theirs32}},
		{"plain answer to best effort", sdes, answerTo("m=audio 5000 RTP/AVP 0"), nil, nil},
		{"plain answer under required", req, answerTo("m=audio 5000 RTP/AVP 0"), ErrEncryptionRequired, nil},
		{"plain answer, keys required", keysRequired(sdes), answerTo("m=audio 5000 RTP/AVP 0"), ErrEncryptionRequired, nil},
		{"keyless RTP/SAVP answer", sdes, answerTo("m=audio 5000 RTP/SAVP 0"), ErrBadCrypto, nil},
		{"unknown tag", sdes, answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:"+theirs80.String()[len("1 AES_CM_128_HMAC_SHA1_80 inline:"):]), ErrBadCrypto, nil},
		{"suite differs from our tag's", sdes, answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:1 "+theirs32.String()[2:]), ErrBadCrypto, nil},
		{"malformed", sdes, answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA"), ErrBadCrypto, nil},
		{"crypto to a plain offer", testLocal(), answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:"+theirs80.String()), ErrEncryptionOff, nil},
		{"RTP/SAVP to a plain offer", testLocal(), answerTo("m=audio 5000 RTP/SAVP 0"), ErrEncryptionOff, nil},
		// Our own offer mirrored back (an SBC or a loopback service): one key both ways.
		{"our own key echoed", sdes, answerTo("m=audio 5000 RTP/AVP 0", "a=crypto:"+sdes.Crypto[0].String()), ErrBadCrypto, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Accept(tt.local, tt.answer)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				r, ok := AsRefusal(err)
				if !ok || r.Reason == "" || strings.Contains(err.Error(), "inline:") {
					t.Errorf("refusal %#v", r)
				}
				return
			}
			switch {
			case tt.want == nil && n.SRTP != nil:
				t.Errorf("SRTP %s / %s, want plain", n.SRTP.Local.Masked(), n.SRTP.Remote.Masked())
			case tt.want != nil && (n.SRTP == nil || !n.SRTP.Equal(*tt.want)):
				t.Errorf("SRTP %+v, want %s / %s", n.SRTP, tt.want.Local.Masked(), tt.want.Remote.Masked())
			}
		})
	}
}

func TestEncryptionNames(t *testing.T) {
	for _, e := range []Encryption{EncryptionNone, EncryptionSDES, EncryptionSDESRequired} {
		got, err := ParseEncryption(strings.ToUpper(e.String()))
		if err != nil || got != e {
			t.Errorf("ParseEncryption(%q) = %v, %v", e, got, err)
		}
		var u Encryption
		b, err := e.MarshalText()
		if err != nil || u.UnmarshalText(b) != nil || u != e {
			t.Errorf("text round trip of %v: %q %v → %v", e, b, err, u)
		}
	}
	if _, err := ParseEncryption("srtp"); err == nil {
		t.Error("ParseEncryption(srtp) succeeded")
	}
	if s := Encryption(7).String(); s != "Encryption(7)" {
		t.Errorf("String() = %q", s)
	}
	if _, err := Encryption(7).MarshalText(); err == nil {
		t.Error("MarshalText(7) succeeded")
	}
}

func TestLocalCryptoChecks(t *testing.T) {
	for name, mod := range map[string]func(*Local){
		"no keys":       func(l *Local) { l.Crypto = nil },
		"tag twice":     func(l *Local) { l.Crypto[1].Tag = l.Crypto[0].Tag },
		"short key":     func(l *Local) { l.Crypto[0].Key = l.Crypto[0].Key[:10] },
		"unknown suite": func(l *Local) { l.Crypto[0].Suite = 0 },
		"bad policy":    func(l *Local) { l.Encryption = 9 },
	} {
		l := sdesLocal(EncryptionSDES, 1)
		mod(&l)
		if b, err := Offer(l); err == nil {
			t.Errorf("%s: no error, offer %q", name, b)
		}
		if _, _, err := Answer(readSDP(t, "baresip-srtp.offer.sdp"), l); err == nil {
			t.Errorf("%s: Answer accepted it", name)
		}
	}
	// Under none, keys are ignored, even bad ones.
	l := testLocal()
	l.Crypto = []srtp.Crypto{{Tag: 1}}
	if b, err := Offer(l); err != nil || strings.Contains(string(b), "crypto") {
		t.Errorf("none with keys: %v\n%s", err, b)
	}
}

// TestAcceptBaresip accepts baresip 1.0's real answer (mediaenc srtp-mand) to our
// sdes-required wideband offer (sdesLocal(EncryptionSDESRequired, 0x21), at 127.0.0.1:47012).
func TestAcceptBaresip(t *testing.T) {
	l := sdesLocal(EncryptionSDESRequired, 0x21)
	l.Codecs, l.Addr, l.Port = wideLocal().Codecs, "127.0.0.1", 47012
	n, err := Accept(l, readSDP(t, "baresip-srtp-mand.answer-to-us.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	// baresip lists every codec we share, opus first with its own wishes, and telephone-event
	// at 8000 only.
	if n.Codec != (Format{111, "opus", 48000, 2, "stereo=1;sprop-stereo=1"}) || n.RecvPT != 111 || n.DTMFPT != 101 || n.DTMFRate != 8000 || n.Proto != "RTP/SAVP" {
		t.Errorf("negotiated %+v", n)
	}
	if n.SRTP == nil || !n.SRTP.Local.Equal(l.Crypto[0]) || n.SRTP.Remote.Tag != 1 || n.SRTP.Remote.Suite != srtp.AESCM128HMACSHA180 {
		t.Fatalf("keys %+v", n.SRTP)
	}
	if o := ParseOpusFmtp(n.Codec.Fmtp); !o.Stereo || !o.SpropStereo || o.UseInbandFEC {
		t.Errorf("opus fmtp %+v", o)
	}
}

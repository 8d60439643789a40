package sdp

import (
	"reflect"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
)

// checkAnswer checks what Answer returned for local: a refusal is typed, an answer parses
// back to what Negotiated says, with the policy and keys it claims.
func checkAnswer(t *testing.T, local Local, ans []byte, n Negotiated, err error) {
	t.Helper()
	if err != nil {
		_ = err.Error()
		if ans != nil {
			t.Fatal("answer with an error")
		}
		if r, ok := AsRefusal(err); ok && (r.Code != 488 || r.Reason == "" || r.Err == nil) {
			t.Fatalf("refusal %#v", r)
		}
		return
	}
	local, _ = local.norm() // it answered, so it normalises
	c, ok := match(n.Codec)
	if !ok || !contains(local.Codecs, c.name) || n.RecvPT != int(n.Codec.PT) {
		t.Fatalf("negotiated codec %+v (recv %d) is not one of ours", n.Codec, n.RecvPT)
	}
	if n.DTMFPT >= 0 && n.DTMFRate != 8000 && n.DTMFRate != n.Codec.Rate {
		t.Fatalf("telephone-event at %d for %+v", n.DTMFRate, n.Codec)
	}
	m, err := Parse(ans)
	if err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, ans)
	}
	if m.Port != local.Port || m.Addr != local.Addr || m.Dir != n.LocalDir || m.Proto != n.Proto || m.Formats[0].PT != n.Codec.PT {
		t.Fatalf("answer %+v disagrees with negotiated %+v\n%s", m, n, ans)
	}
	switch {
	case n.SRTP == nil && (len(m.Crypto) != 0 || secureProto(n.Proto) || local.Encryption == EncryptionSDESRequired):
		t.Fatalf("plain negotiation, policy %s, answer %s with %d a=crypto", local.Encryption, m.Proto, len(m.Crypto))
	case n.SRTP != nil:
		if local.Encryption == EncryptionNone || len(m.Crypto) != 1 {
			t.Fatalf("SRTP under %s, %d a=crypto in the answer", local.Encryption, len(m.Crypto))
		}
		got, err := srtp.ParseCrypto(m.Crypto[0])
		if err != nil || !got.Equal(n.SRTP.Local) || got.Tag != n.SRTP.Remote.Tag || got.Suite != n.SRTP.Remote.Suite {
			t.Fatalf("answer's a=crypto %s (%v) is not ours %s for theirs %s", got.Masked(), err, n.SRTP.Local.Masked(), n.SRTP.Remote.Masked())
		}
	}
}

// FuzzAnswerSDES answers under each SDES policy with the wideband codecs: a=crypto lines,
// RTP/SAVP(F) and opus/G722 formats in any shape must give a typed refusal or a consistent
// answer, never a panic.
func FuzzAnswerSDES(f *testing.F) {
	addGolden(f)
	locals := []Local{sdesLocal(EncryptionSDES, 1), sdesLocal(EncryptionSDESRequired, 1), sdesLocal(EncryptionNone, 1)}
	for i := range locals {
		locals[i].Codecs = wideLocal().Codecs
	}
	f.Fuzz(func(t *testing.T, offer []byte) {
		for _, l := range locals {
			ans, n, err := Answer(offer, l)
			checkAnswer(t, l, ans, n, err)
			o, perr := ParseOffer(offer)
			if perr != nil {
				continue
			}
			ans2, n2, err2 := o.Answer(l)
			if (err == nil) != (err2 == nil) || string(ans2) != string(ans) || !reflect.DeepEqual(n, n2) {
				t.Fatalf("ParsedOffer.Answer differs: %v / %v", err, err2)
			}
		}
	})
}

// FuzzAccept reads any answer to our SDES wideband offer: a refusal, or a result that
// names a codec and keys we offered.
func FuzzAccept(f *testing.F) {
	addGolden(f)
	locals := []Local{sdesLocal(EncryptionSDES, 1), sdesLocal(EncryptionSDESRequired, 1), testLocal()}
	locals[0].Codecs = wideLocal().Codecs
	f.Fuzz(func(t *testing.T, answer []byte) {
		for _, l := range locals {
			n, err := Accept(l, answer)
			if err != nil {
				_ = err.Error()
				continue
			}
			l, _ = l.norm()
			if o, ok := offeredCodec(offerFormats(l), n.Codec.Name); !ok || int(o.PT) != n.RecvPT {
				t.Fatalf("codec %+v recv %d not as offered", n.Codec, n.RecvPT)
			}
			if n.SRTP == nil {
				if l.Encryption == EncryptionSDESRequired {
					t.Fatal("plain under sdes-required")
				}
				continue
			}
			found := false
			for _, c := range l.Crypto {
				found = found || c.Equal(n.SRTP.Local) && c.Suite == n.SRTP.Remote.Suite
			}
			if !found || l.Encryption == EncryptionNone {
				t.Fatalf("keys %s / %s not ours", n.SRTP.Local.Masked(), n.SRTP.Remote.Masked())
			}
		}
	})
}

func FuzzParseOpusFmtp(f *testing.F) {
	for _, s := range []string{"minptime=10;useinbandfec=1", "stereo=1;sprop-stereo=1", "maxaveragebitrate=20000; usedtx=1 ;cbr=1",
		"maxplaybackrate=16000;sprop-maxcapturerate=16000;maxptime=60", "useinbandfec", ";;=;", "maxaveragebitrate=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := ParseOpusFmtp(s)
		for _, v := range []struct{ n, lo, hi int }{{o.MaxPlaybackRate, 8000, 48000}, {o.SpropMaxCaptureRate, 8000, 48000},
			{o.MaxAverageBitrate, 6000, 510000}, {o.MinPtime, 3, 120}, {o.MaxPtime, 3, 120}} {
			if v.n != 0 && (v.n < v.lo || v.n > v.hi) {
				t.Fatalf("%+v out of range", o)
			}
		}
	})
}

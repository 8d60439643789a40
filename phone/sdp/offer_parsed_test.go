package sdp

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// FuzzParsedOffer: an offer parsed once (ParseOffer, Check, then Answer twice) answers
// exactly as Answer does, error for error: the incoming call path relies on it. Check is
// given a placeholder address and port, as the phone does before its RTP socket is open, so
// Answer's reuse of what Check settled is checked against a fresh negotiation.
func FuzzParsedOffer(f *testing.F) {
	addGolden(f)
	f.Add(offerWith("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"))
	locals := []Local{testLocal(), sdesLocal(EncryptionSDES, 1), sdesLocal(EncryptionSDESRequired, 2)}
	sendonly := testLocal()
	sendonly.Dir = SendOnly
	locals = append(locals, sendonly)
	f.Fuzz(func(t *testing.T, offer []byte) {
		for _, checked := range locals {
			for _, local := range locals {
				checkParsedOffer(t, offer, checked, local)
			}
		}
	})
}

// checkParsedOffer checks offer on checked's terms (at a placeholder address), then answers it
// twice on local's, changing the first answer's SRTP keys in between: each answer must be
// what a fresh Answer on local's terms gives, whichever terms the check had.
func checkParsedOffer(t *testing.T, offer []byte, checked, local Local) {
	t.Helper()
	placeholder := checked
	placeholder.Addr, placeholder.Port, placeholder.RTCPPort = "127.0.0.1", 9, 0
	_, _, cwant := Answer(offer, checked)
	want, wn, werr := Answer(offer, local)
	o, err := ParseOffer(offer)
	if err != nil {
		if werr == nil || err.Error() != werr.Error() {
			t.Fatalf("ParseOffer: %v, Answer: %v", err, werr)
		}
		return
	}
	if cerr := o.Check(placeholder); (cerr == nil) != (cwant == nil) || cerr != nil && cerr.Error() != cwant.Error() {
		t.Fatalf("Check: %v, Answer: %v", cerr, cwant)
	}
	for range 2 {
		got, gn, gerr := o.Answer(local)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
			t.Fatalf("ParsedOffer.Answer: %v, Answer: %v", gerr, werr)
		}
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gn, wn) {
			t.Fatalf("ParsedOffer.Answer %q %+v, Answer %q %+v", got, gn, want, wn)
		}
		if gn.SRTP != nil { // a caller that changes its keys changes no later answer's
			gn.SRTP.Local.Key[0]++
			gn.SRTP.Remote.Key[0]++
			gn.SRTP.Remote.Tag++
		}
	}
}

// TestParsedOfferAnswersOnOtherTerms: an Answer on other terms than the Check's (here no
// longer PCMU) negotiates afresh rather than reusing what the Check settled.
func TestParsedOfferAnswersOnOtherTerms(t *testing.T) {
	offer := []byte("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n")
	o, err := ParseOffer(offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Check(testLocal()); err != nil {
		t.Fatal(err)
	}
	alaw := testLocal()
	alaw.Codecs = []string{"PCMA"}
	_, n, err := o.Answer(alaw)
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec.Name != "PCMA" {
		t.Fatalf("answered %s on PCMA-only terms: the Check's PCMU was reused", n.Codec.Name)
	}
	_, n2, err := o.Answer(testLocal())
	if err != nil || n2.Codec.Name != "PCMU" {
		t.Fatalf("on the Check's terms: %s, %v; want PCMU", n2.Codec.Name, err)
	}
}

func BenchmarkAnswerParsedTwice(b *testing.B) {
	offer := []byte("v=0\r\no=sipp 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 6000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n")
	local := testLocal()
	b.Run("Answer×2", func(b *testing.B) {
		for b.Loop() {
			_, _, _ = Answer(offer, local)
			_, _, _ = Answer(offer, local)
		}
	})
	b.Run("ParseOffer+Check+Answer", func(b *testing.B) {
		for b.Loop() {
			o, _ := ParseOffer(offer)
			_ = o.Check(local)
			_, _, _ = o.Answer(local)
		}
	})
}

// TestPlainOfferNeedsNoKeys: Plain holds for offers of plain RTP with no a=crypto line, and
// not for any secure profile or a=crypto line (well formed or not, on any stream, at session
// level); for the plain ones, answering under "SDES if offered" with keys and under no
// encryption without any gives the same answer (FuzzPlainOffer for any offer).
func TestPlainOfferNeedsNoKeys(t *testing.T) {
	const key = "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
	video := "m=video 5000 RTP/SAVP 96\r\na=rtpmap:96 H264/90000\r\n"
	for _, c := range []struct {
		name  string
		offer []byte
		plain bool
	}{
		{"RTP/AVP", offerWith("RTP/AVP"), true},
		{"RTP/AVPF", offerWith("RTP/AVPF"), true},
		{"RTP/SAVP without a=crypto", offerWith("RTP/SAVP"), false},
		{"RTP/SAVPF", offerWith("RTP/SAVPF", key), false},
		{"RTP/AVP with a=crypto", offerWith("RTP/AVP", key), false},
		{"RTP/AVP with a bad a=crypto", offerWith("RTP/AVP", "1 NO_SUCH_SUITE inline:AAAA"), false},
		{"a secure video stream", append(offerWith("RTP/AVP"), video...), false},
		{"a=crypto at session level", []byte(strings.Replace(string(offerWith("RTP/AVP")), "t=0 0\r\n", "t=0 0\r\na=crypto:"+key+"\r\n", 1)), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, err := ParseOffer(c.offer)
			if err != nil {
				t.Fatal(err)
			}
			if o.Plain() != c.plain {
				t.Fatalf("Plain() = %v, want %v", o.Plain(), c.plain)
			}
			if c.plain {
				checkPlainOffer(t, c.offer)
			}
		})
	}
}

// FuzzPlainOffer: any offer Plain says is plain gets the same answer (or refusal) under "SDES
// if offered" with keys as under no encryption without keys.
func FuzzPlainOffer(f *testing.F) {
	addGolden(f)
	f.Add(offerWith("RTP/AVP"))
	f.Fuzz(func(t *testing.T, offer []byte) {
		if o, err := ParseOffer(offer); err == nil && o.Plain() {
			checkPlainOffer(t, offer)
		}
	})
}

func checkPlainOffer(t *testing.T, offer []byte) {
	t.Helper()
	want, wn, werr := Answer(offer, sdesLocal(EncryptionSDES, 1))
	got, gn, gerr := Answer(offer, testLocal())
	if fmt.Sprint(werr) != fmt.Sprint(gerr) || !bytes.Equal(want, got) || !reflect.DeepEqual(wn, gn) {
		t.Fatalf("a plain offer answered differently without keys:\nwith keys (%v):\n%s\n%+v\nwithout (%v):\n%s\n%+v", werr, want, wn, gerr, got, gn)
	}
}

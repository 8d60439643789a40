package sdp

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParsedOffer: an offer parsed once (ParseOffer, Check, then Answer twice) answers
// exactly as Answer does, error for error: the incoming call path relies on it.
func FuzzParsedOffer(f *testing.F) {
	addGolden(f)
	local := testLocal()
	f.Fuzz(func(t *testing.T, offer []byte) {
		want, wn, werr := Answer(offer, local)
		o, err := ParseOffer(offer)
		if err != nil {
			if werr == nil || err.Error() != werr.Error() {
				t.Fatalf("ParseOffer: %v, Answer: %v", err, werr)
			}
			return
		}
		if cerr := o.Check(local); (cerr == nil) != (werr == nil) || cerr != nil && cerr.Error() != werr.Error() {
			t.Fatalf("Check: %v, Answer: %v", cerr, werr)
		}
		for range 2 {
			got, gn, gerr := o.Answer(local)
			if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
				t.Fatalf("ParsedOffer.Answer: %v, Answer: %v", gerr, werr)
			}
			if !bytes.Equal(got, want) || !reflect.DeepEqual(gn, wn) {
				t.Fatalf("ParsedOffer.Answer %q %+v, Answer %q %+v", got, gn, want, wn)
			}
		}
	})
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

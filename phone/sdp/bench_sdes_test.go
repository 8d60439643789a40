package sdp

import "testing"

// BenchmarkAnswerPolicies answers baresip's best-effort SDES wideband offer under each
// policy: what a=crypto parsing and key choice add to INVITE → 200 OK.
func BenchmarkAnswerPolicies(b *testing.B) {
	offer := readSDP(b, "baresip-srtp.offer.sdp")
	for _, e := range []Encryption{EncryptionNone, EncryptionSDES} {
		l := sdesLocal(e, 1)
		l.Codecs = wideLocal().Codecs
		b.Run(e.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Answer(offer, l); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package sdp

import (
	"slices"

	"github.com/dialtone/dialtone/phone/srtp"
	psdp "github.com/pion/sdp/v3"
)

// ParsedOffer is a remote offer parsed once: an incoming call checks it before it rings and
// answers it later, and parsing it twice cost ~7 µs of INVITE → 200 OK. Answer reuses what
// the last accepting Check settled when only where our media is differs: the call checks
// against a placeholder address before its RTP socket is known, and negotiating a second
// time was a tenth of the answer's work (BenchmarkAnswerTurnaround). Not for concurrent use.
type ParsedOffer struct {
	sd      *psdp.SessionDescription
	checked *settled // the last Check's, if it accepted
	terms   Local    // what it was checked with (normalised)
}

// ParseOffer parses offer, with Answer's checks and errors.
func ParseOffer(offer []byte) (*ParsedOffer, error) {
	sd, err := unmarshal(offer)
	if err != nil {
		return nil, err
	}
	return &ParsedOffer{sd: sd}, nil
}

// Check says whether Answer with l would accept the offer: the same error when not, with
// no answer written.
func (o *ParsedOffer) Check(l Local) error {
	l, err := l.norm()
	if err != nil {
		return err
	}
	s, err := settle(o.sd, l)
	o.checked, o.terms = nil, l
	o.terms.Codecs, o.terms.Crypto = slices.Clone(l.Codecs), slices.Clone(l.Crypto) // the caller's to change
	if err == nil {
		o.checked = &s
	}
	return err
}

// Answer is the package's Answer for the parsed offer. It does not change the offer, so it
// may be called again (or after Check).
func (o *ParsedOffer) Answer(l Local) ([]byte, Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return nil, Negotiated{}, err
	}
	if o.checked != nil && sameTerms(o.terms, l) {
		return render(o.sd, l, *o.checked)
	}
	return answer(o.sd, l)
}

// sameTerms says whether a and b (normalised) would settle any offer alike: they differ at
// most in where our media is and in the o= line, which only render writes.
func sameTerms(a, b Local) bool {
	return slices.Equal(a.Codecs, b.Codecs) && a.DTMF == b.DTMF && a.DTMFPT == b.DTMFPT &&
		a.Ptime == b.Ptime && a.Dir == b.Dir && a.Encryption == b.Encryption &&
		slices.EqualFunc(a.Crypto, b.Crypto, srtp.Crypto.Equal)
}

// CryptoSuites lists the SRTP suites the offer's audio streams name in a=crypto lines that
// parse, each once, in the offer's order: an answer needs our key for one of these and no
// other, so an answerer makes keys for these alone (a plain offer names none).
func (o *ParsedOffer) CryptoSuites() []srtp.Suite {
	var out []srtp.Suite
	for _, md := range o.sd.MediaDescriptions {
		if md.MediaName.Media != "audio" {
			continue
		}
		for _, a := range md.Attributes {
			if a.Key != "crypto" {
				continue
			}
			if c, err := srtp.ParseCrypto(a.Value); err == nil && !slices.Contains(out, c.Suite) {
				out = append(out, c.Suite)
			}
		}
	}
	return out
}

// Plain says whether the offer is plain RTP through and through: no stream of a secure
// profile (RTP/SAVP, RTP/SAVPF) and no a=crypto line anywhere, well formed or not. Such an
// offer is answered alike under EncryptionSDES and EncryptionNone, so an answerer that may
// take either needs no keys for it (TestPlainOfferNeedsNoKeys).
func (o *ParsedOffer) Plain() bool {
	for _, a := range o.sd.Attributes {
		if a.Key == "crypto" {
			return false
		}
	}
	for _, md := range o.sd.MediaDescriptions {
		if secureProto(proto(md)) {
			return false
		}
		for _, a := range md.Attributes {
			if a.Key == "crypto" {
				return false
			}
		}
	}
	return true
}

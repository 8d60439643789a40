package sdp

import (
	"slices"

	"github.com/dialtone/dialtone/phone/srtp"
	psdp "github.com/pion/sdp/v3"
)

// ParsedOffer is a remote offer parsed once: an incoming call checks it before it rings and
// answers it later, and parsing it twice cost ~7 µs of INVITE → 200 OK.
type ParsedOffer struct {
	sd *psdp.SessionDescription
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
	_, _, err = answer(o.sd, l, false)
	return err
}

// Answer is the package's Answer for the parsed offer. It does not change the offer, so it
// may be called again (or after Check).
func (o *ParsedOffer) Answer(l Local) ([]byte, Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return nil, Negotiated{}, err
	}
	return answer(o.sd, l, true)
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

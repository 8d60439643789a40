package sdp

import (
	"bytes"
	"errors"

	"github.com/dialtone/dialtone/phone/srtp"
)

// answerCrypto picks our answer to an offered stream's a=crypto lines (RFC 4568 §7.1.2):
// the first line, in the offerer's order, whose suite we have a key for. Lines with a suite
// or feature we do not do are skipped; a malformed line is skipped too when a later one is
// good. We answer with our key of that suite under the offer's tag.
func answerCrypto(offered []string, ours []srtp.Crypto) (srtp.Keys, *RefusalError) {
	if len(offered) == 0 {
		return srtp.Keys{}, refuse(ErrEncryptionRequired, "the offer has no a=crypto")
	}
	var malformed, unsupported error
	for _, v := range offered {
		theirs, err := srtp.ParseCrypto(v)
		switch {
		case errors.Is(err, srtp.ErrUnknownSuite) || errors.Is(err, srtp.ErrUnsupported):
			if unsupported == nil {
				unsupported = err
			}
			continue
		case err != nil:
			if malformed == nil {
				malformed = err
			}
			continue
		}
		if ownKey(theirs, ours) {
			if malformed == nil {
				malformed = errors.New("the offer's a=crypto key is one of ours")
			}
			continue
		}
		for _, o := range ours {
			if o.Suite == theirs.Suite {
				o.Tag = theirs.Tag
				return srtp.Keys{Local: o, Remote: theirs}, nil
			}
		}
		if unsupported == nil {
			unsupported = errors.New(theirs.Suite.String() + " is not among our keys")
		}
	}
	if malformed != nil && unsupported == nil {
		return srtp.Keys{}, refuse(ErrBadCrypto, "%v", malformed)
	}
	return srtp.Keys{}, refuse(ErrNoCommonSuite, "%v", unsupported)
}

// acceptCrypto checks the answer's a=crypto lines against what we offered (RFC 4568
// §7.1.3): the accepted line carries the tag of one of our lines and the same suite; our key
// of that tag protects what we send, theirs what we receive.
func acceptCrypto(answered []string, ours []srtp.Crypto) (srtp.Keys, *RefusalError) {
	var first *RefusalError
	for _, v := range answered {
		theirs, err := srtp.ParseCrypto(v)
		if err != nil {
			if first == nil {
				first = refuse(ErrBadCrypto, "the answer's %v", err)
			}
			continue
		}
		if ownKey(theirs, ours) {
			// Our offer echoed back (an SBC or a loopback service mirroring the SDP): one
			// master key both ways, and our own packets sent back to us authenticate.
			if first == nil {
				first = refuse(ErrBadCrypto, "the answer's a=crypto tag %d carries our own key back", theirs.Tag)
			}
			continue
		}
		for _, o := range ours {
			if o.Tag != theirs.Tag {
				continue
			}
			if o.Suite != theirs.Suite {
				return srtp.Keys{}, refuse(ErrBadCrypto, "the answer's a=crypto tag %d names %s, our offer's names %s", theirs.Tag, theirs.Suite, o.Suite)
			}
			return srtp.Keys{Local: o, Remote: theirs}, nil
		}
		if first == nil {
			first = refuse(ErrBadCrypto, "the answer's a=crypto tag %d matches none we offered", theirs.Tag)
		}
	}
	return srtp.Keys{}, first
}

// ownKey says whether theirs carries one of our master keys: the far end's key must be its own,
// or both directions run under one key (RFC 3711 §9.1: no two streams share a key and SSRC
// space safely), and what we send authenticates when sent back to us.
func ownKey(theirs srtp.Crypto, ours []srtp.Crypto) bool {
	for _, o := range ours {
		if bytes.Equal(o.Key, theirs.Key) {
			return true
		}
	}
	return false
}

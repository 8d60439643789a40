package sdp

import (
	"slices"

	"github.com/dialtone/dialtone/phone/srtp"
)

// Accept reads the answer to our offer l and returns the negotiated result. The codec is
// the first one in the answer that we offered; the answer's others that we offered may come
// instead (RecvAlt, RecvOther), ones we did not offer are ignored, and an answer with none of
// ours is an error. We send with the answer's
// payload types and receive with our offer's (RecvPT, RecvDTMFPT). Under SDES the answer's
// a=crypto must carry the tag and suite of one of ours (SRTP); an answer without a=crypto is
// plain RTP under sdes and refused under sdes-required. Refusals are *RefusalError.
func Accept(l Local, answer []byte) (Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return Negotiated{}, err
	}
	m, err := Parse(answer)
	if err != nil {
		return Negotiated{}, err
	}
	if m.Port == 0 {
		return Negotiated{}, refuse(ErrNoCommonCodec, "the answer rejects the audio stream (port 0)")
	}
	offered := offerFormats(l)
	var c Format
	recvPT := -1
	for _, f := range m.Formats {
		ours, ok := canonical(f)
		if !ok {
			continue
		}
		if o, ok := offeredCodec(offered, ours.Name); ok {
			c, recvPT = ours, int(o.PT)
			break
		}
	}
	if recvPT < 0 {
		return Negotiated{}, refuse(ErrNoCommonCodec, "the answer picks no codec we offered: %s", describe(m.Formats))
	}
	keys, r := acceptedKeys(l, m)
	if r != nil {
		return Negotiated{}, r
	}
	remote := effective(m)
	n := result(m, c, l.DTMF)
	n.RecvPT, n.SRTP = recvPT, keys
	n.RecvAlt = otherLaw(m.Formats, offered, c.Name)
	n.RecvOther = otherCodecs(m.Formats, offered, c.Name, n.RecvAlt.Name)
	n.LocalDir = direction(l.Dir.sends() && remote.recvs(), l.Dir.recvs() && remote.sends())
	n.Hold = l.Dir.sends() && !remote.recvs() // their refusal to receive, not one our offer forced
	if n.DTMFPT >= 0 {
		if te, ok := dtmfFor(offered, n.DTMFRate); ok && te.Rate == n.DTMFRate && int(te.PT) != n.DTMFPT {
			n.RecvDTMFPT = int(te.PT)
		}
		n.RecvDTMFOther = otherEvents(m.Formats, offered, n.DTMFPT, n.RecvDTMFPT)
	}
	return n, nil
}

// otherLaw is our offer's format of the other G.711 law than name (PCMU, PCMA) when the
// answer's formats list it too; its Name is "" otherwise.
func otherLaw(answered, offered []Format, name string) Format {
	other := map[string]string{"PCMU": "PCMA", "PCMA": "PCMU"}[name]
	if other == "" {
		return Format{}
	}
	for _, f := range answered {
		if ours, ok := canonical(f); ok && ours.Name == other {
			if o, ok := offeredCodec(offered, other); ok {
				return o
			}
		}
	}
	return Format{}
}

// otherCodecs lists our offer's formats of the codecs the answer lists besides the ones named
// (the codec settled, the other G.711 law), in the answer's order, each once.
func otherCodecs(answered, offered []Format, names ...string) []Format {
	var out []Format
	for _, f := range answered {
		ours, ok := canonical(f)
		if !ok || slices.Contains(names, ours.Name) || slices.ContainsFunc(out, func(o Format) bool { return o.Name == ours.Name }) {
			continue
		}
		if o, ok := offeredCodec(offered, ours.Name); ok {
			out = append(out, o)
		}
	}
	return out
}

// otherEvents lists our offer's telephone-event payload types at the clock rates the answer
// also has telephone-event at, but for the ones named.
func otherEvents(answered, offered []Format, named ...int) []int {
	var out []int
	for _, o := range offered {
		if !isEvent(o) || slices.Contains(named, int(o.PT)) {
			continue
		}
		if slices.ContainsFunc(answered, func(f Format) bool { return isEvent(f) && f.Rate == o.Rate }) {
			out = append(out, int(o.PT))
		}
	}
	return out
}

// offeredCodec returns the format our offer listed for the codec named name.
func offeredCodec(offered []Format, name string) (Format, bool) {
	for _, f := range offered {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// acceptedKeys checks the answer's encryption against our offer and policy.
func acceptedKeys(l Local, m *Media) (*srtp.Keys, *RefusalError) {
	secure := secureProto(m.Proto)
	switch {
	case l.Encryption == EncryptionNone && secure:
		return nil, refuse(ErrEncryptionOff, "the answer's audio is %s, our offer's RTP/AVP", m.Proto)
	case l.Encryption == EncryptionNone && len(m.Crypto) > 0:
		return nil, refuse(ErrEncryptionOff, "the answer has a=crypto, our offer had none")
	case l.Encryption == EncryptionNone:
		return nil, nil
	case len(m.Crypto) == 0 && l.keysRequired():
		return nil, refuse(ErrEncryptionRequired, "the answer has no a=crypto")
	case len(m.Crypto) == 0 && secure:
		return nil, refuse(ErrBadCrypto, "%s answer without a=crypto", m.Proto)
	case len(m.Crypto) == 0:
		return nil, nil // the best-effort offer was answered plain
	}
	keys, r := acceptCrypto(m.Crypto, l.Crypto)
	if r != nil {
		return nil, r
	}
	return &keys, nil
}

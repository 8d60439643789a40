package sdp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"github.com/dialtone/dialtone/phone/srtp"
)

// Answer answers a remote offer (RFC 3264 section 6). It accepts one audio stream that
// shares a codec with us, taking the first codec in the offerer's order that we support,
// plus telephone-event if both sides want it; under l.Encryption it prefers (sdes) or
// requires (sdes-required) a stream whose a=crypto we can answer, and refuses RTP/SAVP when
// encryption is off. Every other m= line is rejected with port 0 in its original place, as
// RFC 3264 requires. When nothing is usable, the error is a *RefusalError (ErrNoCommonCodec,
// ErrEncryptionRequired, ...) and the caller sends its Code, 488.
func Answer(offer []byte, l Local) ([]byte, Negotiated, error) {
	l, err := l.norm()
	if err != nil {
		return nil, Negotiated{}, err
	}
	sd, err := unmarshal(offer)
	if err != nil {
		return nil, Negotiated{}, err
	}
	return answer(sd, l)
}

// candidate is an offered audio stream we could accept.
type candidate struct {
	md    *psdp.MediaDescription
	m     *Media
	codec Format
	keys  *srtp.Keys // nil: answered plain
}

// answer answers the parsed offer sd for the normalised l.
func answer(sd *psdp.SessionDescription, l Local) ([]byte, Negotiated, error) {
	s, err := settle(sd, l)
	if err != nil {
		return nil, Negotiated{}, err
	}
	return render(sd, l, s)
}

// settled is what answering an offer decided before any of it is written: the stream taken
// and its terms. Where our media is (address, ports) plays no part in it (render writes it).
type settled struct {
	chosen *candidate
	n      Negotiated
}

// settle picks the offered stream to take, or says why none will do.
func settle(sd *psdp.SessionDescription, l Local) (settled, error) {
	var plain, secure *candidate
	var why *RefusalError
	var malformed error
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != "audio" || secure != nil || plain != nil && l.Encryption == EncryptionNone {
			continue // settled: the first stream we can take, or under sdes the first secure one
		}
		c, r, err := consider(sd, md, l)
		switch {
		case err != nil:
			if malformed == nil {
				malformed = err
			}
		case r != nil:
			if why == nil || why.Err == ErrNoCommonCodec && r.Err != ErrNoCommonCodec {
				why = r // the first reason, unless a later stream failed on SRTP: that says more
			}
		case c.keys != nil:
			secure = c
		case plain == nil:
			plain = c
		}
	}
	chosen := secure
	if chosen == nil && !l.keysRequired() {
		chosen = plain
	}
	switch {
	case chosen != nil:
	case malformed != nil:
		return settled{}, malformed
	case why != nil:
		return settled{}, why
	default:
		return settled{}, refuse(ErrNoCommonCodec, "the offer has no audio stream")
	}
	return settled{chosen: chosen, n: negotiate(chosen, l)}, nil
}

// render writes the answer s settled, with our media where l puts it: the stream taken in
// its place, every other m= line rejected in its own.
func render(sd *psdp.SessionDescription, l Local, s settled) ([]byte, Negotiated, error) {
	ans := session(l)
	for _, md := range sd.MediaDescriptions {
		if md == s.chosen.md {
			ans.MediaDescriptions = append(ans.MediaDescriptions, answerLine(s.chosen, s.n, l))
			continue
		}
		ans.MediaDescriptions = append(ans.MediaDescriptions, rejected(md))
	}
	b, err := ans.Marshal()
	n := s.n
	if n.SRTP != nil { // each answer's own, as if negotiated anew: a caller may keep or change it
		k := *n.SRTP
		k.Local.Key, k.Remote.Key = bytes.Clone(k.Local.Key), bytes.Clone(k.Remote.Key)
		n.SRTP = &k
	}
	return b, n, err
}

// consider looks at one offered audio m= line: a candidate, or why it will not do. err is a
// malformed stream, which fails the whole offer.
func consider(sd *psdp.SessionDescription, md *psdp.MediaDescription, l Local) (*candidate, *RefusalError, error) {
	p := proto(md)
	switch {
	case !supportedProto(p):
		return nil, refuse(ErrNoCommonCodec, "audio is only offered over %s; dialtone does RTP/AVP and SDES RTP/SAVP, not DTLS-SRTP", p), nil
	case md.MediaName.Port.Value == 0:
		return nil, refuse(ErrNoCommonCodec, "the offer disables its audio stream (port 0)"), nil
	}
	m, err := media(sd, md)
	if err != nil {
		return nil, nil, err
	}
	f, ok := pick(m.Formats, l.Codecs)
	if !ok {
		return nil, refuse(ErrNoCommonCodec, "offered audio formats %s, we do %s", describe(m.Formats), strings.Join(l.Codecs, " ")), nil
	}
	c := &candidate{md: md, m: m, codec: f}
	if l.Encryption == EncryptionNone {
		if secureProto(p) {
			return nil, refuse(ErrEncryptionOff, "the offer's audio is %s", p), nil
		}
		return c, nil, nil // a best-effort offer's a=crypto is declined by answering without it
	}
	keys, r := answerCrypto(m.Crypto, l.Crypto)
	switch {
	case r == nil:
		c.keys = &keys
	case secureProto(p) && len(m.Crypto) == 0:
		return nil, refuse(ErrBadCrypto, "%s offer without a=crypto (DTLS-SRTP or MIKEY keying is not supported)", p), nil
	case secureProto(p) || l.keysRequired():
		return nil, r, nil
	}
	return c, nil, nil // best effort: plain RTP when the RTP/AVP offer's keys will not do
}

// negotiate settles the terms of the accepted offered stream.
func negotiate(c *candidate, l Local) Negotiated {
	m := c.m
	remote := effective(m)
	n := result(m, c.codec, l.DTMF)
	n.RecvPT = int(c.codec.PT) // an answer uses the offer's numbers both ways
	n.LocalDir = direction(remote.recvs() && l.Dir.sends(), remote.sends() && l.Dir.recvs())
	n.Hold = !remote.recvs()
	n.SRTP = c.keys
	return n
}

// answerLine is our m= line for the accepted stream c on the terms n.
func answerLine(c *candidate, n Negotiated, l Local) *psdp.MediaDescription {
	ours := c.codec
	if s, _ := specByName(ours.Name); s.fmtp != "" {
		ours.Fmtp = s.fmtp // our wishes as a receiver, not an echo of theirs (RFC 7587 §7)
	}
	fs := []Format{ours}
	if n.DTMFPT >= 0 {
		te, _ := dtmfFor(c.m.Formats, c.codec.Rate)
		if te.Fmtp == "" {
			te.Fmtp = dtmfEvents // the offerer's event list if it gave one; we handle all of 0-16
		}
		fs = append(fs, Format{PT: te.PT, Name: "telephone-event", Rate: te.Rate, Channels: 1, Fmtp: te.Fmtp})
	}
	var cs []srtp.Crypto
	if c.keys != nil {
		cs = []srtp.Crypto{c.keys.Local}
	}
	return audio(l, c.m.Proto, fs, cs, n.LocalDir)
}

// result fills in what Answer and Accept share. telephone-event is the one at the codec's
// clock, else at 8000 (dtmfFor).
func result(m *Media, c Format, dtmf bool) Negotiated {
	n := Negotiated{Codec: c, DTMFPT: -1, RemoteAddr: m.Addr, RemotePort: m.Port, RemoteRTCPPort: m.RTCPPort, RemoteRTCPAddr: m.RTCPAddr,
		Ptime: m.Ptime, Proto: m.Proto}
	if te, ok := dtmfFor(m.Formats, c.Rate); ok && dtmf {
		n.DTMFPT, n.DTMFRate = int(te.PT), te.Rate
	}
	if n.RemoteRTCPPort == 0 {
		n.RemoteRTCPPort = m.Port + 1
	}
	if n.RemoteRTCPAddr == n.RemoteAddr {
		n.RemoteRTCPAddr = "" // the usual a=rtcp (FreeSWITCH's): the RTP address again
	}
	n.Ptime = sendPtime(m.Ptime, m.MaxPtime)
	return n
}

// sendPtime is the packet duration to send for a remote's a=ptime and a=maxptime (0: absent):
// its ptime, else 20 ms, and never more than its maxptime (RFC 4566 §6: the most it can take in
// a packet), cut to whole 10 ms, which G.711 and G.722 packets are made of, and 10 ms at least.
func sendPtime(ptime, maxPtime int) int {
	if ptime == 0 {
		ptime = 20
	}
	if maxPtime > 0 && ptime > maxPtime {
		ptime = max(10, maxPtime/10*10)
	}
	return ptime
}

// effective is the remote's direction once an RFC 2543 hold (c=0.0.0.0) is accounted for:
// a peer without an address cannot receive.
func effective(m *Media) Direction {
	if isUnspecified(m.Addr) {
		return direction(m.Dir.sends(), false)
	}
	return m.Dir
}

// pick returns the first of the offered formats that is one of our codecs.
func pick(offered []Format, ours []string) (Format, bool) {
	for _, f := range offered {
		if c, ok := canonical(f); ok && contains(ours, c.Name) {
			return c, true
		}
	}
	return Format{}, false
}

// canonical returns f in our spelling if it is a codec we can do. G.711 and G.722 have no
// parameters (RFC 3551), so any fmtp is dropped rather than half-echoed; opus's are the
// sender's wishes, which our encoder follows (ParseOpusFmtp).
func canonical(f Format) (Format, bool) {
	s, ok := match(f)
	if !ok {
		return Format{}, false
	}
	c := Format{PT: f.PT, Name: s.name, Rate: s.rate, Channels: s.channels}
	if s.fmtp != "" {
		c.Fmtp = f.Fmtp
	}
	return c, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// rejected answers an m= line we do not take: same media and proto, port 0.
func rejected(md *psdp.MediaDescription) *psdp.MediaDescription {
	formats := md.MediaName.Formats
	if len(formats) == 0 {
		formats = []string{"0"} // the grammar needs one; it means nothing on a rejected line
	}
	return &psdp.MediaDescription{MediaName: psdp.MediaName{
		Media: md.MediaName.Media, Protos: md.MediaName.Protos, Formats: formats,
	}}
}

// describe lists formats for error messages, e.g. "opus/48000/2 G729/8000".
func describe(fs []Format) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.Name == "" {
			b.WriteString(strconv.Itoa(int(f.PT)))
			continue
		}
		fmt.Fprintf(&b, "%s/%d", f.Name, f.Rate)
		if f.Channels != 1 {
			fmt.Fprintf(&b, "/%d", f.Channels)
		}
	}
	return b.String()
}

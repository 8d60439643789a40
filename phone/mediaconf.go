package phone

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/dialtone/dialtone/phone/srtp"
)

// supportedCodecs are the codecs this build has, in our default order of preference:
// wideband first (Opus, G.722), then G.711. Listed once: every incoming call asks (clipped,
// so that no caller's append writes into the shared list).
var supportedCodecs = sync.OnceValue(func() []string {
	var names []string
	for _, c := range codec.All() {
		names = append(names, c.Name())
	}
	return slices.Clip(names)
})

// codecsFor is a call's codec preference: its account's, else the phone's, else every codec
// this build has.
func (p *Phone) codecsFor(acc *account) []string {
	switch {
	case acc != nil && len(acc.Codecs) > 0:
		return acc.Codecs
	case len(p.cfg.Codecs) > 0:
		return p.cfg.Codecs
	}
	return supportedCodecs()
}

// ptimeFor is the packet duration a call's SDP asks for: its account's, else the phone's (0:
// the default, 20 ms).
func (p *Phone) ptimeFor(acc *account) int {
	if acc != nil && acc.Ptime > 0 {
		return acc.Ptime
	}
	return p.cfg.Ptime
}

// encryptionFor is a call's SRTP policy: its account's, else the phone's. Unset, it offers
// SDES keys when the signalling that carries them is TLS (over UDP or TCP anyone on the path
// reads the keys, so offering them says more than it protects), and answers either way:
// encrypted when the caller offers keys, plain when it does not.
func (p *Phone) encryptionFor(acc *account, tls, offering bool) (sdp.Encryption, error) {
	policy := p.cfg.MediaEncryption
	if acc != nil && acc.MediaEncryption != "" {
		policy = acc.MediaEncryption
	}
	if policy != "" {
		e, err := sdp.ParseEncryption(policy)
		if err != nil {
			return e, fmt.Errorf("media encryption policy: %w", err)
		}
		return e, nil
	}
	if tls || !offering {
		return sdp.EncryptionSDES, nil
	}
	return sdp.EncryptionNone, nil
}

// newKeys makes a call's SDES keys, one per suite srtp supports in its order (RFC 7714's AEAD
// suites before the RFC 4568 ones every peer has; an answerer takes the first it does), tags 1
// up: fresh for every call, kept for its re-INVITEs. None under EncryptionNone.
func newKeys(e sdp.Encryption) ([]srtp.Crypto, error) {
	return newKeysFor(e, srtp.Suites)
}

// keysAdded is keys with fresh ones for the suites offered that it has none for: an incoming
// call's keys are made for the suites its first offer names, and a later offer may name
// others (a PBX that bridged the call elsewhere), which we refused (RTP/SAVP) or answered in
// the clear (RTP/AVP). keys itself is not changed.
func keysAdded(e sdp.Encryption, keys []srtp.Crypto, offered []srtp.Suite) ([]srtp.Crypto, error) {
	var missing []srtp.Suite
	for _, s := range offered {
		held := slices.ContainsFunc(keys, func(k srtp.Crypto) bool { return k.Suite == s })
		if !held && slices.Contains(srtp.Suites, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 || e == sdp.EncryptionNone {
		return keys, nil
	}
	more, err := newKeysFor(e, missing) // tags by suite: they differ from the held ones'
	if err != nil {
		return keys, err
	}
	return append(slices.Clone(keys), more...), nil
}

// newKeysFor is newKeys for the suites in want only (each keeps its tag). An answerer needs a
// key for a suite the offer names and no other: fresh keys cost ~4 µs each of INVITE → 200 OK.
// With none of want supported it still makes AES_CM_128_HMAC_SHA1_80's (which every SDES peer
// has), as the SDP policy asks for a key under SDES; a plain answer never sends it.
func newKeysFor(e sdp.Encryption, want []srtp.Suite) ([]srtp.Crypto, error) {
	if e == sdp.EncryptionNone {
		return nil, nil
	}
	some := slices.ContainsFunc(srtp.Suites, func(s srtp.Suite) bool { return slices.Contains(want, s) })
	keys := make([]srtp.Crypto, 0, len(want))
	for i, s := range srtp.Suites {
		if slices.Contains(want, s) || !some && s == srtp.AESCM128HMACSHA180 {
			k, err := srtp.NewCrypto(i+1, s)
			if err != nil {
				return nil, fmt.Errorf("SRTP keys: %w", err)
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func codecByName(name string) (codec.Codec, bool) { return codec.ByName(name) }

// mediaConfig is the RTP socket configuration for a call whose SDP names ip.
func (p *Phone) mediaConfig(ip string) media.Config {
	addr, err := netip.ParseAddr(strings.Trim(ip, "[]"))
	if err != nil {
		addr = netip.IPv4Unspecified()
	}
	return media.Config{IP: addr, PortMin: p.cfg.RTPPortMin, PortMax: p.cfg.RTPPortMax, Logger: p.log, Tap: p.cfg.MediaTap}
}

// mediaPolicy is what a call offers or accepts besides addresses: codecs, SRTP policy and
// the SDES keys, fresh for every call and kept for its re-INVITEs.
type mediaPolicy struct {
	codecs []string
	ptime  int // a=ptime: what we ask to receive; 0 is 20 ms
	enc    sdp.Encryption
	keys   []srtp.Crypto
}

// policyFor is a call's media policy for its account; tls says whether the signalling is TLS,
// offering whether we make the offer (see encryptionFor).
func (p *Phone) policyFor(acc *account, tls, offering bool) (mediaPolicy, error) {
	mp := p.basePolicy(acc)
	var err error
	if mp.enc, err = p.encryptionFor(acc, tls, offering); err != nil {
		return mp, err
	}
	mp.keys, err = newKeys(mp.enc)
	return mp, err
}

// basePolicy is what a call's media policy takes from its account before the SRTP policy and
// keys: codecs and ptime (policyFor, and checkOffer for an incoming offer).
func (p *Phone) basePolicy(acc *account) mediaPolicy {
	return mediaPolicy{codecs: p.codecsFor(acc), ptime: p.ptimeFor(acc)}
}

// localSDP describes our side of a call's media at the address publicMedia chose.
func (p *Phone) localSDP(m mediaAddr, mp mediaPolicy) sdp.Local {
	now := uint64(time.Now().Unix())
	return sdp.Local{
		SessionID: now, SessionVersion: now, Username: "dialtone",
		Addr: strings.Trim(m.IP, "[]"), Port: m.RTP, RTCPPort: m.RTCP,
		Codecs: mp.codecs, DTMF: true, DTMFPT: 101, Ptime: cmp.Or(mp.ptime, 20), Dir: sdp.SendRecv,
		Encryption: mp.enc, Crypto: mp.keys,
	}
}

// sessionEncryption is the policy a call's own later offers (hold, resume) follow once an
// exchange settled its media: the same profile and keys, so a re-INVITE changes nothing the
// user did not ask for (RFC 4568 §7.1.4 lets an offer repeat the keys in use). required (the
// account's sdes-required) keeps plain RTP refused when SRTP was settled as RTP/AVP with keys:
// a later offer without them was taken, and the call went on in the clear.
func sessionEncryption(n sdp.Negotiated, required bool) (enc sdp.Encryption, keysRequired bool) {
	switch {
	case n.SRTP == nil:
		return sdp.EncryptionNone, false
	case n.Proto == "RTP/SAVP" || n.Proto == "RTP/SAVPF":
		return sdp.EncryptionSDESRequired, true
	}
	return sdp.EncryptionSDES, required
}

// setAnswered fills the answered call's codec, audio rate and SRTP suite into its status.
func setAnswered(s *CallStatus, n sdp.Negotiated) {
	s.Codec, s.CodecRate, s.SRTP = n.Codec.Name, 0, ""
	if c, ok := codec.ByName(n.Codec.Name); ok {
		s.CodecRate = c.SampleRate()
	}
	if n.SRTP != nil {
		s.SRTP = n.SRTP.Local.Suite.String()
	}
}

// mediaTermsChanged shows a renegotiation's codec and encryption in the call's status (the
// TUI's lock and codec, the answered event's fields), when they changed: they were set at the
// answer only, and a re-INVITE that took the call to plain RTP (a best-effort sdes call, a B2BUA
// re-bridging it) left the lock claiming SRTP. Going plain is said in the log too.
func (p *Phone) mediaTermsChanged(c *call, params media.Params) {
	name, rate, suite := "", 0, ""
	if params.Codec != nil {
		name, rate = params.Codec.Name(), params.Codec.SampleRate()
	}
	if params.SRTP != nil {
		suite = params.SRTP.Local.Suite.String()
	}
	c.mu.Lock()
	was, wasCodec := c.status.SRTP, c.status.Codec
	c.mu.Unlock()
	if was == suite && (name == "" || wasCodec == name) {
		return
	}
	if was != "" && suite == "" {
		p.log.Warn("media encryption off: the call goes on in plain RTP, as the far end renegotiated it", "call", c.id, "was", was)
	}
	p.update(c, func(s *CallStatus) {
		s.SRTP = suite
		if name != "" {
			s.Codec, s.CodecRate = name, rate
		}
	})
}

// insecureRefusal says whether err refuses an offer or answer for its media encryption (the
// call then fails as insecure, exit 17), and the refusal's short reason.
func insecureRefusal(err error) (string, bool) {
	r, ok := sdp.AsRefusal(err)
	if !ok {
		return "", false
	}
	for _, class := range []error{sdp.ErrEncryptionRequired, sdp.ErrEncryptionOff, sdp.ErrNoCommonSuite, sdp.ErrBadCrypto} {
		if errors.Is(r, class) {
			return r.Reason, true
		}
	}
	return "", false
}

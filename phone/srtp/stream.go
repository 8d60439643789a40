package srtp

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	pion "github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/replaydetector"
)

// Errors the Stream's methods return besides pion's own: each unprotect failure is counted
// under one of Stats' drop counters.
var (
	// ErrAuth: the packet's authentication tag is wrong (forged, corrupted, or another key).
	ErrAuth = errors.New("srtp: authentication failed")
	// ErrReplay: a packet with this index was already accepted, or is older than the window.
	ErrReplay = errors.New("srtp: replayed packet")
	// ErrNoRoom: the buffer has no room after the packet for the trailer SRTP appends.
	ErrNoRoom = errors.New("srtp: no room in the buffer for the SRTP trailer")
)

// Replay windows in packets (RFC 3711 §3.3.2 asks for at least 64). An a=crypto WSH may ask
// for more, up to maxWindow: a window is a bitmap per SSRC, so it is bounded.
const (
	defaultWindow = 128
	maxWindow     = 4096
)

// Largest SRTP and SRTCP indexes (RFC 3711 §3.3.1: 48-bit RTP index, 31-bit SRTCP index).
const (
	maxSRTPIndex  = 1<<48 - 1
	maxSRTCPIndex = 1<<31 - 1
)

// Stats counts one stream's SRTP work since it was made (rekeys carry the counts over).
type Stats struct {
	Protected   uint64 // RTP and RTCP packets protected for sending
	Unprotected uint64 // RTP and RTCP packets that authenticated and were decrypted
	AuthFailed  uint64 // dropped: wrong authentication tag (forgery, corruption, wrong key)
	Replayed    uint64 // dropped: replayed or too old for the replay window
	Failed      uint64 // dropped or not sent for another reason (too short, no room, unknown MKI)
}

type counters struct {
	protected, unprotected, authFailed, replayed, failed atomic.Uint64
}

// Stream is the SRTP of one media stream: what we send is protected with the local key, what
// we receive unprotected with the remote one (RFC 4568 §6.1), RTP and RTCP each in their own
// context so the sending, receiving and reporting goroutines never share one. Its methods
// are safe to call from several goroutines; each works in the caller's buffer, allocating
// nothing.
type Stream struct {
	keys                         Keys
	txRTP, txRTCP, rxRTP, rxRTCP *half
	stats                        *counters
	// used are the contexts the call made so far, by key and direction, shared by every
	// Stream Rekey makes: a key the call comes back to (suite A, then B, then A again over
	// three re-INVITEs) takes up its contexts where they were. A fresh one restarted the
	// SRTCP index and the rollover counter under a key already used: keystream again, and
	// under AES-GCM a repeated nonce (RFC 7714 §8), which gives the authentication key away.
	used *usedContexts
}

// usedContexts keeps a call's contexts by key (a few: one per suite and side).
type usedContexts struct {
	mu    sync.Mutex
	pairs []usedPair
}

type usedPair struct {
	key       Crypto
	sending   bool
	rtp, rtcp *half
}

// halvesFor returns the contexts for c in one direction: those made before for the same key,
// else new ones (remembered).
func (u *usedContexts) halvesFor(c Crypto, sending bool, wsh int) (*half, *half, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.pairs {
		if p.sending == sending && p.key.SameKey(c) {
			return p.rtp, p.rtcp, nil
		}
	}
	rtp, rtcp, err := newHalves(c, wsh)
	if err != nil {
		return nil, nil, err
	}
	u.pairs = append(u.pairs, usedPair{key: c, sending: sending, rtp: rtp, rtcp: rtcp})
	return rtp, rtcp, nil
}

// half is one pion context with the lock that serialises its use and the scratch headers
// pion unmarshals into (kept here so nothing escapes per packet).
type half struct {
	mu       sync.Mutex
	ctx      *pion.Context
	trailer  int // bytes protect appends: tag, MKI, and for SRTCP the index
	rtpHdr   rtp.Header
	rtcpHdr  rtcp.Header
	replayed bool // the replay detector rejected the packet being unprotected
}

// NewStream makes the contexts for k.
func NewStream(k Keys) (*Stream, error) {
	return (&Stream{stats: new(counters), used: new(usedContexts)}).with(k)
}

// Rekey returns a Stream for k that keeps this one's counters, and the contexts (rollover
// counters, SRTCP indexes, replay windows) of every key used before in the call, in each
// direction: a re-INVITE repeating our a=crypto keeps our sending state (RFC 4568 §7.1.4), and
// one that comes back to an earlier key takes its state up again.
func (s *Stream) Rekey(k Keys) (*Stream, error) {
	return (&Stream{stats: s.stats, used: s.used}).with(k)
}

// with fills in n's contexts for k from the call's (usedContexts).
func (n *Stream) with(k Keys) (*Stream, error) {
	n.keys = k
	var err error
	if n.txRTP, n.txRTCP, err = n.used.halvesFor(k.Local, true, 0); err != nil {
		return nil, fmt.Errorf("srtp local key: %w", err)
	}
	if n.rxRTP, n.rxRTCP, err = n.used.halvesFor(k.Remote, false, k.Remote.WSH); err != nil {
		return nil, fmt.Errorf("srtp remote key: %w", err)
	}
	return n, nil
}

// Keys returns the keys the stream runs with.
func (s *Stream) Keys() Keys { return s.keys }

// Stats returns the counts so far.
func (s *Stream) Stats() Stats {
	return Stats{
		Protected: s.stats.protected.Load(), Unprotected: s.stats.unprotected.Load(),
		AuthFailed: s.stats.authFailed.Load(), Replayed: s.stats.replayed.Load(), Failed: s.stats.failed.Load(),
	}
}

// RTPTrailer and RTCPTrailer are the bytes ProtectRTP and ProtectRTCP append to a packet:
// the room a send buffer needs after it.
func (s *Stream) RTPTrailer() int  { return s.txRTP.trailer }
func (s *Stream) RTCPTrailer() int { return s.txRTCP.trailer }

func profile(su Suite) (pion.ProtectionProfile, error) {
	switch su {
	case AESCM128HMACSHA180:
		return pion.ProtectionProfileAes128CmHmacSha1_80, nil
	case AESCM128HMACSHA132:
		return pion.ProtectionProfileAes128CmHmacSha1_32, nil
	case AEADAES128GCM:
		return pion.ProtectionProfileAeadAes128Gcm, nil
	case AEADAES256GCM:
		return pion.ProtectionProfileAeadAes256Gcm, nil
	}
	return 0, fmt.Errorf("%w %s", ErrUnknownSuite, su)
}

// newHalves makes the RTP and the RTCP context for one master key, with replay windows of
// wsh packets (the default when 0) for the contexts that unprotect.
func newHalves(c Crypto, wsh int) (rtpHalf, rtcpHalf *half, err error) {
	prof, err := profile(c.Suite)
	if err != nil {
		return nil, nil, err
	}
	if len(c.Key) != c.Suite.KeySaltLen() {
		return nil, nil, fmt.Errorf("%w: %s key||salt is %d bytes, want %d", ErrMalformed, c.Suite, len(c.Key), c.Suite.KeySaltLen())
	}
	window := uint(defaultWindow)
	if wsh > 0 {
		window = uint(min(max(wsh, 64), maxWindow))
	}
	key, salt := c.Key[:c.Suite.KeyLen()], c.Key[c.Suite.KeyLen():]
	mki := c.MKIBytes()
	rtpHalf, rtcpHalf = &half{}, &half{}
	opts := func(h *half) []pion.ContextOption {
		return []pion.ContextOption{
			pion.MasterKeyIndicator(mki),
			pion.SRTPReplayDetectorFactory(h.detector(window, maxSRTPIndex)),
			pion.SRTCPReplayDetectorFactory(h.detector(window, maxSRTCPIndex)),
		}
	}
	if rtpHalf.ctx, err = pion.CreateContext(key, salt, prof, opts(rtpHalf)...); err != nil {
		return nil, nil, fmt.Errorf("srtp %s context: %w", c.Suite, err)
	}
	if rtcpHalf.ctx, err = pion.CreateContext(key, salt, prof, opts(rtcpHalf)...); err != nil {
		return nil, nil, fmt.Errorf("srtcp %s context: %w", c.Suite, err)
	}
	rtpHalf.trailer = c.Suite.AuthTagLen() + len(mki)
	// SRTCP: the E flag and index, the MKI, and the tag (80 bits for both HMAC suites, RFC
	// 3711 §4.2 and RFC 4568 §6.2.2: the _32 suite shortens only SRTP's).
	rtcpHalf.trailer = 4 + len(mki) + 10
	if c.Suite.AEAD() {
		rtcpHalf.trailer = 4 + len(mki) + 16
	}
	return rtpHalf, rtcpHalf, nil
}

// detector returns a replay detector factory whose detectors mark h when they reject an
// index, which is how a replay is told from other failures (pion's replay error is opaque).
func (h *half) detector(window uint, maxIndex uint64) func() replaydetector.ReplayDetector {
	return func() replaydetector.ReplayDetector {
		inner := replaydetector.New(window, maxIndex)
		ca, _ := inner.(replaydetector.CheckAccepter)
		return &markingDetector{inner: inner, ca: ca, h: h}
	}
}

// markingDetector is pion's sliding window detector that records rejections on its half. It
// implements CheckAccepter, the form pion uses without allocating a closure per packet.
type markingDetector struct {
	inner   replaydetector.ReplayDetector
	ca      replaydetector.CheckAccepter
	h       *half
	pending func() bool // Check's accept, when inner is not a CheckAccepter
}

func (d *markingDetector) Check(seq uint64) (func() bool, bool) {
	accept, ok := d.inner.Check(seq)
	if !ok {
		d.h.replayed = true
	}
	return accept, ok
}

func (d *markingDetector) CheckSeq(seq uint64) replaydetector.Token {
	if d.ca == nil { // not so in transport v5.1.1, whose New returns CheckAccepters
		accept, ok := d.Check(seq)
		if !ok {
			return replaydetector.Rejected(seq)
		}
		d.pending = accept
		return replaydetector.Passed(seq)
	}
	t := d.ca.CheckSeq(seq)
	if !t.Passed() {
		d.h.replayed = true
	}
	return t
}

func (d *markingDetector) Accept(t replaydetector.Token) bool {
	if d.ca == nil {
		accept := d.pending
		d.pending = nil
		return t.Passed() && accept != nil && accept()
	}
	return d.ca.Accept(t)
}

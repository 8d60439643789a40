package media

// The SRTP seam: every RTP and RTCP packet passes these four on its way out or in, so the
// rest of the media path works on plain packets whether or not the call is encrypted.
// Params.SRTP nil means plain RTP: the packet passes untouched. The contexts live in
// Session.srtp (srtpState): made by Update (Start) in the caller's goroutine when Params.SRTP
// is set, remade (Stream.Rekey, keeping an unchanged direction's state) when an Update brings
// another *Keys, and carried to the packet paths in Params.srtp, so the pacer never pays for
// keying (pion's NewStream takes 40-115 µs and over a hundred allocations).

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"

	"github.com/dialtone/dialtone/phone/srtp"
)

// Room a packet buffer leaves after the packet for what SRTP appends: an RTP auth tag or AEAD
// tag (at most 16 bytes), and for SRTCP the 4-byte E flag and index before the tag. An MKI
// in our own key would need more: dialtone never puts one in its a=crypto (srtp.NewCrypto).
const (
	srtpTrailerMax  = 16
	srtcpTrailerMax = 4 + 16
)

// srtpState is a session's SRTP: the stream for the keys in force, swapped whole so the
// sending, receiving and reporting goroutines each find a consistent one without a lock.
type srtpState struct {
	cur atomic.Pointer[srtpCurrent]
	mu  sync.Mutex // serialises making a stream for new keys

	warnedSend, warnedRecv atomic.Bool // one log line per session for each, not one per packet
}

// srtpCurrent is the stream made for one Params.SRTP (the pointer Update brought), or the
// error that kept it from being made (every packet is then dropped: never sent in clear).
type srtpCurrent struct {
	keys   *srtp.Keys
	stream *srtp.Stream
}

// srtpStream returns the stream for p's keys, nil for plain RTP, and ok false when p asks
// for SRTP that could not be set up. Params that came through Update carry their stream
// (p.srtp), so the packet paths neither lock nor key; others (tests calling the seam with
// Params of their own) are keyed here on first use.
func (s *Session) srtpStream(p Params) (st *srtp.Stream, ok bool) {
	if p.SRTP == nil {
		return nil, true
	}
	c := p.srtp
	if c == nil || c.keys != p.SRTP {
		c = s.keyed(p.SRTP)
	}
	return c.stream, c.stream != nil
}

// keyed returns the stream for keys: the one in force when keys is the same pointer (its
// state, rollover counters and replay windows, carries on), else one made for them. Update
// calls it before publishing new Params, so the stream exists before any packet needs it.
func (s *Session) keyed(keys *srtp.Keys) *srtpCurrent {
	if c := s.srtp.cur.Load(); c != nil && c.keys == keys {
		return c
	}
	s.srtp.mu.Lock()
	defer s.srtp.mu.Unlock()
	c := s.srtp.cur.Load()
	if c != nil && c.keys == keys {
		return c
	}
	var st *srtp.Stream
	var err error
	if c != nil && c.stream != nil {
		st, err = c.stream.Rekey(*keys) // a re-INVITE: keep what did not change, and the counts
	} else {
		st, err = srtp.NewStream(*keys)
	}
	if err != nil {
		s.log.Error("srtp: cannot use the negotiated keys: every packet is dropped", "err", err,
			"local", keys.Local.Masked(), "remote", keys.Remote.Masked())
	} else {
		s.log.Debug("srtp: keys in force", "local", keys.Local.Masked(), "remote", keys.Remote.Masked())
	}
	c = &srtpCurrent{keys: keys, stream: st}
	s.srtp.cur.Store(c)
	return c
}

// SRTPStats returns the SRTP counters of the session's stream (kept across re-keying), and
// whether the session is encrypting now.
func (s *Session) SRTPStats() (stats srtp.Stats, encrypted bool) {
	c := s.srtp.cur.Load()
	if c != nil && c.stream != nil {
		stats = c.stream.Stats()
	}
	return stats, s.current().SRTP != nil
}

// protectRTP returns the packet to put on the wire for the plain RTP packet b (header and
// payload, with room after it in its buffer for the auth tag); ok false drops it.
func (s *Session) protectRTP(p Params, b []byte, h *rtp.Header) (wire []byte, ok bool) {
	st, ok := s.srtpStream(p)
	if st == nil {
		return b, ok
	}
	wire, err := st.ProtectRTP(b)
	if err != nil {
		if !s.srtp.warnedSend.Swap(true) {
			s.log.Warn("srtp: an RTP packet was not sent", "err", err)
		}
		return nil, false
	}
	return wire, true
}

// unprotectRTP authenticates and decrypts the received packet b in place and parses the
// plain packet into pkt (header, payload, padding); ok false drops it (counted). The caller
// parsed only b's header: the rest, padding's length in the last byte included, is
// ciphertext and tag until now.
func (s *Session) unprotectRTP(p Params, b []byte, pkt *rtp.Packet) (ok bool) {
	st, ok := s.srtpStream(p)
	if st == nil {
		return ok
	}
	plain, err := st.UnprotectRTP(b)
	if err != nil {
		s.noteDrop(err)
		return false
	}
	if err := pkt.Unmarshal(plain); err != nil { // e.g. a padding length longer than the payload
		return false
	}
	return true
}

// protectRTCP returns the compound RTCP packet to put on the wire for the plain one b, whose
// buffer leaves room after it for the SRTCP trailer (srtcpTrailerMax): a buffer without that
// room is not sent (ok false), never sent in clear.
func (s *Session) protectRTCP(p Params, b []byte) (wire []byte, ok bool) {
	st, ok := s.srtpStream(p)
	if st == nil {
		return b, ok
	}
	wire, err := st.ProtectRTCP(b)
	if err != nil {
		if !s.srtp.warnedSend.Swap(true) {
			s.log.Warn("srtp: an RTCP packet was not sent", "err", err)
		}
		return nil, false
	}
	return wire, true
}

// unprotectRTCP returns the plain compound RTCP packet in the received b; ok false drops it.
func (s *Session) unprotectRTCP(p Params, b []byte) (plain []byte, ok bool) {
	st, ok := s.srtpStream(p)
	if st == nil {
		return b, ok
	}
	plain, err := st.UnprotectRTCP(b)
	if err != nil {
		s.noteDrop(err)
		return nil, false
	}
	return plain, true
}

// noteDrop logs the first packet the session drops for failing SRTP; the rest are counted
// (SRTPStats) without a line each, so a flood of forgeries cannot flood the log.
func (s *Session) noteDrop(err error) {
	if !s.srtp.warnedRecv.Swap(true) {
		s.log.Warn("srtp: dropping received packets that fail authentication or replay checks (counted in SRTP stats)", "first", err)
	}
}

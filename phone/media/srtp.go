package media

// The SRTP seam: every RTP and RTCP packet passes these four on its way out or in, so the
// rest of the media path works on plain packets whether or not the call is encrypted.
// Params.SRTP nil means plain RTP: the packet passes untouched. The contexts live in
// Session.srtp (srtpState): made for the first packet after Params.SRTP is set, remade
// (Stream.Rekey, keeping an unchanged direction's state) when an Update brings other keys.

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

	// rtcpOut is room for an outgoing report whose buffer has none for the SRTCP trailer:
	// RTCP leaves from one goroutine at a time (the pacer's tick for this session).
	rtcpOut [rtcpReportMax + srtcpTrailerMax]byte

	warnedSend, warnedRecv atomic.Bool // one log line per session for each, not one per packet
}

// srtpCurrent is the stream made for one Params.SRTP (the pointer Update brought), or the
// error that kept it from being made (every packet is then dropped: never sent in clear).
type srtpCurrent struct {
	keys   *srtp.Keys
	stream *srtp.Stream
}

// srtpStream returns the stream for p's keys, nil for plain RTP, and ok false when p asks
// for SRTP that could not be set up.
func (s *Session) srtpStream(p Params) (st *srtp.Stream, ok bool) {
	if p.SRTP == nil {
		return nil, true
	}
	if c := s.srtp.cur.Load(); c != nil && c.keys == p.SRTP {
		return c.stream, c.stream != nil
	}
	s.srtp.mu.Lock()
	defer s.srtp.mu.Unlock()
	c := s.srtp.cur.Load()
	if c != nil && c.keys == p.SRTP {
		return c.stream, c.stream != nil
	}
	var err error
	if c != nil && c.stream != nil {
		st, err = c.stream.Rekey(*p.SRTP) // a re-INVITE: keep what did not change, and the counts
	} else {
		st, err = srtp.NewStream(*p.SRTP)
	}
	if err != nil {
		s.log.Error("srtp: cannot use the negotiated keys: every packet is dropped", "err", err,
			"local", p.SRTP.Local.Masked(), "remote", p.SRTP.Remote.Masked())
	} else {
		s.log.Debug("srtp: keys in force", "local", p.SRTP.Local.Masked(), "remote", p.SRTP.Remote.Masked())
	}
	s.srtp.cur.Store(&srtpCurrent{keys: p.SRTP, stream: st})
	return st, st != nil
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

// unprotectRTP authenticates and decrypts the received packet b in place, whose header pkt
// already holds, and points pkt.Payload at the plain payload; ok false drops it (counted).
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
	// Parsed again from the plain packet: padding's length is in the payload's last byte,
	// which was ciphertext when the caller parsed the packet.
	if err := pkt.Unmarshal(plain); err != nil {
		return false
	}
	return true
}

// protectRTCP returns the compound RTCP packet to put on the wire for the plain one b.
func (s *Session) protectRTCP(p Params, b []byte) (wire []byte, ok bool) {
	st, ok := s.srtpStream(p)
	if st == nil {
		return b, ok
	}
	if cap(b)-len(b) < st.RTCPTrailer() && len(b)+st.RTCPTrailer() <= len(s.srtp.rtcpOut) {
		b = append(s.srtp.rtcpOut[:0], b...) // the caller's buffer has no room for the trailer
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

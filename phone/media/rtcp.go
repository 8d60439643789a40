package media

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// rtcpInterval is how often reports go out; RFC 3550 allows a fixed 5 s for two-party calls.
const rtcpInterval = 5 * time.Second

// rxStats is what a receiver report needs (RFC 3550 appendix A.3 and A.8).
type rxStats struct {
	ssrc            uint32
	have            bool
	baseSeq, maxSeq uint16
	cycles          uint32
	received        uint32
	expectedPrior   uint32
	receivedPrior   uint32
	// badSeq is the sequence number after a very large jump (RFC 3550 A.1), which a second
	// packet in sequence confirms as the sender's new numbering; noBadSeq when none waits.
	badSeq uint32
	// lostBefore is what never arrived of the numbering before such a restart.
	lostBefore  uint64
	transit     uint32 // arrival less timestamp, modulo 2^32 (RFC 3550 A.8)
	haveTransit bool
	jitter      float64 // in timestamp units
	clock       int     // the timestamps' clock rate
	lastSR      uint32  // middle 32 bits of the last SR's NTP time
	lastSRAt    time.Time
}

// noteReceived counts a packet of the far end's stream, whose timestamps run at clock Hz:
// RFC 3550's interarrival jitter is in those units, so a codec change restarts the transit.
// Every packet of the stream counts as received (its sequence numbers cover them all: telephone-
// events and comfort noise left out were reported lost); timed says its timestamp is its
// sampling instant, which a telephone-event's (the event's start, repeated) is not, so only
// audio feeds the jitter.
func (t *sender) noteReceived(ssrc uint32, seq uint16, ts uint32, at time.Time, clock int, timed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.rs
	if !r.have || r.ssrc != ssrc {
		*r = rxStats{ssrc: ssrc, have: true, baseSeq: seq, maxSeq: seq, clock: clock, badSeq: noBadSeq}
	}
	if r.clock != clock {
		r.clock, r.haveTransit, r.jitter = clock, false, r.jitter*float64(clock)/float64(max(r.clock, 1))
	}
	// RFC 3550 A.1: a gap under maxDropout is loss; a larger jump is the sender's numbering
	// restarting (a B2BUA re-bridged the call) once a second packet follows it in sequence,
	// else a stray; a step back under maxMisorder is a late or repeated packet.
	switch d := seq - r.maxSeq; {
	case d < maxDropout:
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	case d <= 0xFFFF-maxMisorder:
		if uint32(seq) != r.badSeq {
			r.badSeq = uint32(seq+1) & 0xFFFF
			return // not counted until confirmed
		}
		lost := r.lost()
		*r = rxStats{ssrc: ssrc, have: true, baseSeq: seq, maxSeq: seq, clock: clock, badSeq: noBadSeq,
			lostBefore: lost, jitter: r.jitter, transit: r.transit, haveTransit: r.haveTransit,
			lastSR: r.lastSR, lastSRAt: r.lastSRAt}
	}
	r.received++
	if !timed {
		return
	}
	arrival := at.Unix()*int64(clock) + int64(at.Nanosecond())*int64(clock)/int64(time.Second) // in timestamp units
	// Modulo 2^32, as the timestamps: computed in 64 bits, a timestamp that wrapped (every ~25
	// h at 48 kHz, from a random start) moved the transit by 2^32 and reported hours of jitter.
	transit := uint32(arrival) - ts
	if r.haveTransit {
		d := int64(int32(transit - r.transit))
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit, r.haveTransit = transit, true
}

// RFC 3550 A.1's bounds on sequence jumps.
const (
	maxDropout  = 3000
	maxMisorder = 100
	noBadSeq    = 1<<16 + 1
)

// neverArrived is the far end's stream's cumulative loss (RFC 3550 A.3): expected less received,
// across restarts of its numbering.
func (t *sender) neverArrived() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.rs.have {
		return 0
	}
	return t.rs.lostBefore + t.rs.lost()
}

// lost is what never arrived of the current numbering.
func (r *rxStats) lost() uint64 {
	expected := int64(r.cycles) + int64(r.maxSeq) - int64(r.baseSeq) + 1
	return uint64(max(0, expected-int64(r.received)))
}

// reportBlock builds our reception report about the far end's stream.
func (t *sender) reportBlock(now time.Time) (rtcp.ReceptionReport, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.rs
	if !r.have {
		return rtcp.ReceptionReport{}, false
	}
	extMax := r.cycles + uint32(r.maxSeq)
	expected := extMax - uint32(r.baseSeq) + 1
	lost := int64(expected) - int64(r.received)
	expInterval := expected - r.expectedPrior
	recvInterval := r.received - r.receivedPrior
	r.expectedPrior, r.receivedPrior = expected, r.received
	var fraction uint8
	if lostInterval := int64(expInterval) - int64(recvInterval); expInterval > 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expInterval))
	}
	var dlsr uint32
	if !r.lastSRAt.IsZero() {
		dlsr = uint32(now.Sub(r.lastSRAt).Seconds() * 65536)
	}
	return rtcp.ReceptionReport{
		SSRC: r.ssrc, FractionLost: fraction, TotalLost: uint32(max(lost, 0)) & 0xFFFFFF,
		LastSequenceNumber: extMax, Jitter: uint32(r.jitter), LastSenderReport: r.lastSR, Delay: dlsr,
	}, true
}

// sendRTCP sends a sender report (if we send) or a receiver report to the peer's RTCP port;
// buf (rtcpReportMax+srtcpTrailerMax bytes, room for the SRTCP trailer) holds the packet.
func (s *Session) sendRTCP(p Params, now time.Time, buf []byte) {
	if !p.Remote.IsValid() {
		return
	}
	wire, ok := s.protectRTCP(p, s.tapRTCPOut(p, s.marshalReport(buf, p, now))) // tap.go
	if !ok {
		return
	}
	_, dst := s.targets(p)
	if _, err := s.rtcpIO.WriteToUDPAddrPort(wire, dst); err != nil {
		s.log.Debug("rtcp write", "err", err)
	}
}

// rtcpReportMax is the largest report marshalReport writes: a sender report with one block.
const rtcpReportMax = 28 + 24

// marshalReport writes our report into buf and returns it: a sender report while we send,
// else a receiver report, with a reception report block once the far end has sent (RFC 3550
// 6.4.1, 6.4.2). Written by hand rather than with pion/rtcp, whose Marshal allocates: the
// pacer sends one for every session every 5 s, and a thousand calls' pacing allocates nothing.
func (s *Session) marshalReport(buf []byte, p Params, now time.Time) []byte {
	be := binary.BigEndian
	rr, haveRR := s.tx.reportBlock(now)
	b := buf[:8]
	if p.Send {
		s.tx.mu.Lock()
		octets := s.tx.octets
		s.tx.mu.Unlock()
		b = buf[:28]
		b[1] = 200 // SR
		be.PutUint64(b[8:], ntpTime(now))
		be.PutUint32(b[16:], s.tx.ts)
		be.PutUint32(b[20:], uint32(s.stats.sent.Load()))
		be.PutUint32(b[24:], uint32(octets))
	} else {
		b[1] = 201 // RR
	}
	b[0] = 2 << 6 // version 2, no padding, no report block (yet)
	be.PutUint32(b[4:], s.tx.ssrc)
	if haveRR {
		b[0] |= 1
		blk := buf[len(b) : len(b)+24]
		be.PutUint32(blk[0:], rr.SSRC)
		be.PutUint32(blk[4:], rr.TotalLost&0xFFFFFF)
		blk[4] = rr.FractionLost
		be.PutUint32(blk[8:], rr.LastSequenceNumber)
		be.PutUint32(blk[12:], rr.Jitter)
		be.PutUint32(blk[16:], rr.LastSenderReport)
		be.PutUint32(blk[20:], rr.Delay)
		b = buf[:len(b)+24]
	}
	be.PutUint16(b[2:], uint16(len(b)/4-1)) // length in 32-bit words, minus one
	return b
}

// readRTCP takes the peer's reports: a sender report's time for our next DLSR, and a report
// block about our stream for the round-trip time (RFC 3550 6.4.1).
func (s *Session) readRTCP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.rtcpIO.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !s.fromFarEndRTCP(netip.AddrPortFrom(from.Addr().Unmap(), from.Port())) {
			continue // a stranger's reports would skew our round-trip time and keep a dead call alive
		}
		s.handleRTCP(buf[:n], s.now())
	}
}

// fromFarEndRTCP reports whether an RTCP datagram comes from the far end: its SDP's RTCP
// address, or the host we latched on to (whose NAT picks the RTCP port).
func (s *Session) fromFarEndRTCP(from netip.AddrPort) bool {
	p := s.current()
	sdpRTCP := p.RemoteRTCP
	if !sdpRTCP.IsValid() && p.Remote.IsValid() {
		sdpRTCP = netip.AddrPortFrom(p.Remote.Addr(), p.Remote.Port()+1)
	}
	s.rx.mu.Lock()
	defer s.rx.mu.Unlock()
	return s.rx.latch.noteRTCP(from, sdpRTCP)
}

func (s *Session) handleRTCP(b []byte, now time.Time) {
	b, ok := s.unprotectRTCP(s.current(), b)
	if !ok {
		return
	}
	s.tapRTCPIn(s.current(), b) // tap.go
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	s.stats.lastRTCP.Store(now.UnixNano())
	for _, pk := range pkts {
		var reports []rtcp.ReceptionReport
		switch r := pk.(type) {
		case *rtcp.SenderReport:
			s.tx.mu.Lock()
			s.tx.rs.lastSR = uint32(r.NTPTime >> 16)
			s.tx.rs.lastSRAt = now
			s.tx.mu.Unlock()
			reports = r.Reports
		case *rtcp.ReceiverReport:
			reports = r.Reports
		}
		for _, rr := range reports {
			if rr.SSRC != s.tx.ssrc || rr.LastSenderReport == 0 {
				continue
			}
			// RTT = arrival - LSR - DLSR, all in 1/65536 s.
			a := uint32(ntpTime(now) >> 16)
			rtt := int64(a) - int64(rr.LastSenderReport) - int64(rr.Delay)
			if rtt >= 0 {
				s.stats.rttNs.Store(rtt * int64(time.Second) / 65536)
			}
		}
	}
}

// ntpTime is t in NTP format: seconds since 1900 in the top 32 bits, fraction below.
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

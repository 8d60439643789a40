// Package media is one call's RTP stream: a UDP socket, 20 ms frames at the codec's rate (8,
// 16 or 48 kHz) paced from an audio.Source to the network, and from the network through an
// adaptive jitter buffer with loss concealment to an audio.Sink; RFC 4733 DTMF both ways;
// RTCP reports and statistics. It knows nothing about SIP.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/srtp"
)

// Config says where a session listens.
type Config struct {
	IP               netip.Addr // local address to bind (and to put in SDP)
	PortMin, PortMax int        // RTP port range (even ports; RTCP uses port+1); 0,0 = any free port
	Logger           *slog.Logger
	// NewTicker paces the 20 ms loop; nil uses time.NewTicker. Tests inject their own.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
	// Now is the clock for arrival times and statistics; nil uses time.Now.
	Now func() time.Time
	Tap Tap // sees every plain RTP and RTCP packet (tap.go); nil, none
}

// Params is what the call's signalling negotiated; Update may change it mid-call (hold,
// re-INVITE, the answer after early media).
type Params struct {
	Remote netip.AddrPort // where the far end's SDP says to send RTP
	// RemoteRTCP is where its SDP says RTCP goes (a=rtcp, RFC 3605); invalid means Remote's port + 1.
	RemoteRTCP netip.AddrPort
	// StrictSource accepts RTP only from Remote: no latching on to the address the far end's
	// packets really come from (see LatchWindow for the default policy).
	StrictSource bool
	// Codec is the negotiated audio codec. Frames move at its SampleRate, RTP timestamps at
	// its ClockRate; changing it with Update switches rates between two frames.
	Codec codec.Codec
	// PT is the payload type we send Codec with (the far end's answer or offer chose it, a
	// dynamic one for Opus); 0 means Codec.PayloadType(). PT 0 is PCMU's static type, never
	// another codec's, so the zero value keeps callers that predate it working.
	PT int
	// RecvPT is the payload type the far end sends Codec with (the one our own SDP named,
	// when it differs from PT); 0 means the same as PT. Audio with either is accepted.
	RecvPT int
	DTMFPT int // telephone-event payload type, -1 if none
	// DTMFRate is the telephone-event clock rate the SDP negotiated, in which RFC 4733
	// durations count; 0 means the codec's ClockRate (RFC 4733 wants them equal, but some
	// peers offer only telephone-event/8000 beside opus/48000).
	DTMFRate int
	// RecvDTMFPT is a second telephone-event payload type the far end may send with (the one
	// our offer named, when its answer chose another); 0 means none. PT 0 is PCMU, never an
	// event, so the zero value is safe.
	RecvDTMFPT int
	// RecvDTMFOther are more telephone-event payload types the far end may send with: those
	// at its other clock rates, for after a switch to one of RecvOther.
	RecvDTMFOther []uint8
	// RecvAlt is the other G.711 law the far end may send instead of Codec (PCMU or PCMA;
	// its answer listed both), with payload type RecvAltPT: it is turned into Codec's law as
	// it arrives. nil when there is none.
	RecvAlt   codec.Codec
	RecvAltPT uint8
	// RecvOther are other codecs the far end may switch to without a re-INVITE (its answer
	// listed them): their packets are played as they come, the receive side following their
	// rate; what we send stays Codec.
	RecvOther []RecvCodec
	// Ptime is the packet duration to send, as the far end's a=ptime asked: 10 to 60 ms in
	// tens for a codec whose frames concatenate (G.711, G.722: codec.Concatenable); 0, any
	// other value or another codec sends 20 ms packets (tx_pack.go).
	Ptime   time.Duration
	Send    bool // send the source's audio (false during early media, on hold, recvonly)
	Receive bool // play what arrives
	Muted   bool // send silence instead of the source (the stream keeps flowing, so NATs and peers see no gap)
	Source  audio.Source
	Sink    audio.Sink
	// SRTP is the call's SRTP keying (SDES): nil sends and accepts plain RTP (srtp.go).
	SRTP *srtp.Keys

	// gen counts Updates, so the pacer re-fits the source and sink to the call's rate
	// (SetRate, rate.go) when the parameters changed, without comparing them every frame.
	gen uint64
	// srtp is the stream Update made for SRTP (srtp.go), so the packet paths find it without
	// keying: it travels with the Params it was made for, never with older ones.
	srtp *srtpCurrent
}

// RecvCodec is a codec the far end may send, with the payload type it sends it with.
type RecvCodec struct {
	PT    uint8
	Codec codec.Codec
}

// Event is something the stream noticed that the call may act on.
type Event struct {
	SourceEnded bool  // the source returned io.EOF (a file finished)
	Digit       rune  // a DTMF digit the far end sent (RFC 4733), 0 if none
	SourceLost  error // the source's sound device went away (audio.ErrDeviceLost): silence is sent instead
	SinkLost    error // the sink's sound device went away: what arrives is discarded
}

// Session is one RTP stream. Open it, Start it once parameters are known, Close it at the end.
type Session struct {
	cfg      Config
	log      *slog.Logger
	rtpConn  *net.UDPConn // the local sockets (STUN and TURN talk over them before Start)
	rtcpConn *net.UDPConn
	rtpIO    packetIO // where media is read and written: the sockets, or TURN relays over them
	rtcpIO   packetIO
	relays   []func() // closes the TURN clients, if any
	local    netip.AddrPort
	now      func() time.Time
	// realClock: neither the clock nor the ticker is a test's, so the process's shared pacer
	// may pace the session and read its RTP at its ticks with kernel arrival times (drainRTP).
	realClock bool
	poll      poller // set by Start when the pacer reads RTP; nil while a goroutine does

	mu sync.Mutex // guards params, dtmfQueue and the activity times
	// frameMu is held by the pacer while it paces the session (receive, send and play the frames
	// due, reports), so that Update can wait for a frame in progress: once Update returns,
	// nothing leaves with the old parameters (no RTP after hold, none to the old address).
	frameMu sync.Mutex
	// paced is the shared pacer's state for this session (pacer.go), guarded by frameMu; nil
	// when a goroutine of its own paces it, and from the moment Close took it off the pacer.
	paced *paceState
	// between: its packets fall due between the shared pacer's ticks (10, 30 or 50 ms of
	// G.711 or G.722), which visits it halfway between them too (tx_pack.go).
	between   atomic.Bool
	params    Params
	dtmfQueue []rune
	started   time.Time // when Start was first called
	rxSince   time.Time // since when we expect to receive (Start, or Receive turned on)

	events chan Event
	stats  counters
	rx     receiver
	tx     sender
	srtp   srtpState // SRTP contexts for Params.SRTP (srtp.go)

	startOnce sync.Once
	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

// Open binds the RTP and RTCP sockets.
func Open(cfg Config) (*Session, error) {
	realClock := cfg.Now == nil && cfg.NewTicker == nil
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewTicker == nil {
		cfg.NewTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	rtpConn, rtcpConn, err := bindPair(cfg.IP, cfg.PortMin, cfg.PortMax)
	if err != nil {
		return nil, err
	}
	s := &Session{
		cfg: cfg, log: cfg.Logger, rtpConn: rtpConn, rtcpConn: rtcpConn, rtpIO: newRawIO(rtpConn), rtcpIO: newRawIO(rtcpConn), now: cfg.Now,
		local:     rtpConn.LocalAddr().(*net.UDPAddr).AddrPort(),
		realClock: realClock,
		events:    make(chan Event, 32),
		done:      make(chan struct{}),
	}
	s.rx.init(s)
	s.tx.init()
	return s, nil
}

// bindPair binds an even RTP port and the RTCP port above it, within [min, max].
func bindPair(ip netip.Addr, min, max int) (*net.UDPConn, *net.UDPConn, error) {
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	if min <= 0 || max <= 0 {
		min, max = 10000, 60000
	}
	if min%2 == 1 {
		min++
	}
	span := (max - min) / 2
	if span <= 0 {
		span = 1
	}
	start := rand.IntN(span)
	for i := 0; i < span && i < 200; i++ {
		port := min + 2*((start+i)%span)
		rtpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			continue
		}
		rtcpConn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port+1))))
		if err != nil {
			rtpConn.Close()
			continue
		}
		return rtpConn, rtcpConn, nil
	}
	return nil, nil, fmt.Errorf("rtp: no free port pair in %d-%d on %s", min, max, ip)
}

// LocalAddr is the RTP address to advertise in SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Events carries things the call may act on. It is closed by Close.
func (s *Session) Events() <-chan Event { return s.events }

// Start begins sending and receiving with p; later calls update the parameters.
func (s *Session) Start(p Params) {
	s.Update(p)
	s.startOnce.Do(func() {
		s.mu.Lock()
		s.started = s.now()
		s.rxSince = s.started
		s.mu.Unlock()
		s.rx.mu.Lock()
		s.rx.latch.reset(p.Remote, s.started) // the latching window opens when the stream does
		s.rx.mu.Unlock()
		shared := false
		if s.realClock {
			s.poll = pollerFor(s.rtpIO) // TURN relays, and clocks tests drive, keep a reader goroutine
			switch err := pacer.add(s); {
			case err == nil:
				shared = true
			case errors.Is(err, errSessionClosed):
				return // Close came first: nothing may start now
			default:
				s.log.Debug("media: no shared pacer, the session paces itself", "err", err)
			}
		}
		if s.poll == nil {
			s.wg.Add(1)
			go s.readRTP()
		}
		s.wg.Add(1)
		go s.readRTCP()
		if !shared {
			s.wg.Add(1)
			go s.pace(newPaceState(time.Time{}, s.started)) // the clock is read here, not in the goroutine
		}
	})
}

// Update changes the parameters of a running session (hold, re-INVITE, answer after early media).
// New SRTP keys (another *srtp.Keys) are put in force here, in the caller's goroutine, before
// the pacer can see them.
func (s *Session) Update(p Params) {
	p.srtp = nil
	if p.SRTP != nil {
		p.srtp = s.keyed(p.SRTP)
	}
	s.mu.Lock()
	old := s.params
	p.Muted = old.Muted // the user's mute survives renegotiation; only SetMuted changes it
	p.gen = old.gen + 1
	s.params = p
	// Under mu, so that concurrent Updates leave it as the params they leave.
	between := packedBetweenTicks(p)
	retime := s.between.Swap(between) != between
	moved := p.Remote != old.Remote && !s.started.IsZero()
	answered := p.Send && !old.Send && !s.started.IsZero() // the answer after early media, a resume
	if p.Receive && !old.Receive || moved {
		s.rxSince = s.now() // resumed, or the far end moved: silence counts from now
	}
	s.mu.Unlock()
	if retime {
		pacer.retime(s) // the timer ticks halfway between frames while such a session is paced
	}
	s.frameMu.Lock() // a frame in progress with the old parameters ends first
	var run *pacerRun
	if s.paced != nil && s.paced.unflushed {
		run = s.paced.run
	}
	s.frameMu.Unlock()
	if run != nil {
		// and so do its datagrams a worker queued to send with its share's (sendq_linux.go):
		// on hold, to an old address or under an old key, none may leave after Update.
		run.waitFlushed()
	}
	if moved || answered {
		s.rx.mu.Lock()
		if moved {
			s.rx.latch.reset(p.Remote, s.now()) // the far end moved (re-INVITE): learn its source again
		} else {
			// A far end behind NAT that played no early media has not latched in the window
			// its 183 opened, which may be long closed: its window starts again now.
			s.rx.latch.reopen(s.now())
		}
		// The stream may change source here (an SBC's ringback stops at the 200 and the
		// callee's starts at once): the new SSRC plays at once, not after the old one's
		// ssrcSwitchQuiet of silence, which cut the first 300 ms of "hello".
		s.rx.haveSSRC = false
		s.rx.mu.Unlock()
	}
	if old.Remote != p.Remote && old.Remote.IsValid() {
		s.log.Info("rtp remote changed", "from", old.Remote.String(), "to", p.Remote.String())
	}
	s.permitRelay(p)
}

// permitRelay starts making the TURN permissions for the far end's addresses (in the
// background: relayIO.permit) as soon as they are known, rather than at the first packet.
func (s *Session) permitRelay(p Params) {
	rtpRelay, _ := s.rtpIO.(*relayIO)
	rtcpRelay, _ := s.rtcpIO.(*relayIO)
	if rtpRelay == nil || rtcpRelay == nil {
		return // UseRelay sets both or neither
	}
	rtpDst, rtcpDst := s.targets(p)
	rtpRelay.permit(rtpDst)
	rtcpRelay.permit(rtcpDst)
}

// targets are where RTP and RTCP go now: the SDP's addresses, or the latched source.
func (s *Session) targets(p Params) (rtpDst, rtcpDst netip.AddrPort) {
	sdpRTCP := p.RemoteRTCP
	if !sdpRTCP.IsValid() && p.Remote.IsValid() {
		sdpRTCP = netip.AddrPortFrom(p.Remote.Addr(), p.Remote.Port()+1)
	}
	s.rx.mu.Lock()
	defer s.rx.mu.Unlock()
	return s.rx.latch.rtpTarget(p.Remote), s.rx.latch.rtcpTarget(p.Remote, sdpRTCP)
}

// Activity says how long the stream has been quiet at now: since the last RTP packet was
// accepted (or since receiving began, if none came), and since the last RTP or RTCP. Both are
// 0 when we do not expect to receive (not started, on hold, sendonly). The call uses them to
// warn about one-way audio and to end calls whose far end has vanished.
func (s *Session) Activity(now time.Time) (sinceRTP, sinceAny time.Duration) {
	s.mu.Lock()
	since, receive := s.rxSince, s.params.Receive
	s.mu.Unlock()
	if since.IsZero() || !receive {
		return 0, 0
	}
	lastRTP, lastAny := since, since
	if t := time.Unix(0, s.stats.lastRTP.Load()); s.stats.lastRTP.Load() != 0 && t.After(lastRTP) {
		lastRTP = t
	}
	lastAny = lastRTP
	if t := time.Unix(0, s.stats.lastRTCP.Load()); s.stats.lastRTCP.Load() != 0 && t.After(lastAny) {
		lastAny = t
	}
	return max(now.Sub(lastRTP), 0), max(now.Sub(lastAny), 0)
}

// Latched is the far end's RTP source when it differs from its SDP address (symmetric RTP
// latching took place), else the zero value.
func (s *Session) Latched() netip.AddrPort {
	p := s.current()
	s.rx.mu.Lock()
	defer s.rx.mu.Unlock()
	if src := s.rx.latch.source; src.IsValid() && src != p.Remote {
		return src
	}
	return netip.AddrPort{}
}

// SetMuted mutes or unmutes the microphone without renegotiating anything.
func (s *Session) SetMuted(m bool) {
	s.mu.Lock()
	s.params.Muted = m
	s.mu.Unlock()
}

func (s *Session) current() Params {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.params
}

// emit delivers an event without ever blocking the media path.
func (s *Session) emit(e Event) {
	select {
	case s.events <- e:
	default:
		s.log.Warn("media event dropped: nobody is reading", "event", e)
	}
}

// Close stops the loops, closes the sockets and waits. It is idempotent.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		pacer.remove(s) // once it returns, the shared pacer is not in this session's frame, nor will be
		s.rtpIO.Close()
		s.rtcpIO.Close()
		for _, closeRelay := range s.relays {
			closeRelay()
		}
		s.rtpConn.Close()
		s.rtcpConn.Close()
		s.wg.Wait()
		close(s.events)
	})
	return nil
}

// counters are the session's statistics, updated atomically by the loops.
type counters struct {
	sent, received, lost, late, duplicate, concealed, dropped atomic.Uint64
	jitterNs, rttNs                                           atomic.Int64
	lastRTP, lastRTCP, lastSent                               atomic.Int64 // UnixNano of the last accepted RTP, RTCP, and RTP sent
	keepAlives                                                atomic.Uint64
}

// Stats is a snapshot of the session's counters.
type Stats struct {
	PacketsSent, PacketsReceived              uint64
	Lost, Late, Duplicate, Concealed, Dropped uint64
	// NeverArrived is RFC 3550's cumulative loss: the far end's sequence numbers that never came
	// (of its current SSRC). Unlike Lost it counts a long outage whole, where the jitter buffer,
	// which cannot tell it from a silence, stops counting after half a second.
	NeverArrived uint64
	KeepAlives   uint64 // STUN indications sent while no RTP went out
	Jitter, RTT  time.Duration
	// PacketDuration is the audio each received packet carries (20 ms until packets of
	// another duration came): the far end's packetisation, part of the mouth-to-ear delay.
	PacketDuration time.Duration
}

// Stats returns the counters so far.
func (s *Session) Stats() Stats {
	jb := s.rx.jitterStats()
	return Stats{
		PacketsSent:     s.stats.sent.Load(),
		PacketsReceived: s.stats.received.Load(),
		Lost:            jb.Lost,
		Late:            jb.Late,
		Duplicate:       jb.Duplicate,
		Concealed:       s.stats.concealed.Load(),
		Dropped:         s.stats.dropped.Load() + jb.Dropped,
		NeverArrived:    s.tx.neverArrived(),
		KeepAlives:      s.stats.keepAlives.Load(),
		Jitter:          jb.Jitter,
		RTT:             time.Duration(s.stats.rttNs.Load()),
		PacketDuration:  jb.Frame,
	}
}

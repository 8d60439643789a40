package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// trimSink is a frameSink with a queue of its own (queueTrimmer): it counts what it is asked
// to drop.
type trimSink struct {
	*frameSink
	trimmed int
}

func (s *trimSink) TrimQueued(n int) int { s.trimmed += n; return n }

// aheadSource is a microphone that can deliver its next frame at most ahead early.
type aheadSource struct {
	loopSource
	ahead time.Duration
}

func (a *aheadSource) Ahead(time.Time) time.Duration { return a.ahead }

// loneRun is what pacedImpaired saw of a lone session paced by a private run.
type loneRun struct {
	added        []time.Duration // added delay of each frame played after the first 100 ticks
	late, moves  uint64
	minInterval  time.Duration // the shortest time between two ticks
	trimmed      int           // samples the sink was asked to drop
	earlierTotal time.Duration // how much earlier than every 20 ms the ticks came, in all
}

// pacedImpaired plays a seeded impaired schedule to a session paced by a private pacer run
// (no timer: the test ticks it at its next frame's due time, where the re-armed timer would
// fire), the grid starting phase after the schedule's origin. It checks at every tick that
// exactly one frame was sent and one played (no gap, no burst: the ticks moved, the frames did
// not), and that the RTP it sent has the next sequence number and timestamp.
func pacedImpaired(t *testing.T, arr []arrival, frames int, phase time.Duration, src audiotestSource) loneRun {
	t.Helper()
	far, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	s, err := Open(Config{IP: netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer := far.LocalAddr().(*net.UDPAddr).AddrPort()
	sink := &trimSink{frameSink: newFrameSink()}
	p := Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Send: true, Receive: true, Source: src, Sink: sink}
	s.Update(p)
	t0 := time.Unix(1000, 0)
	r := newPacerRun(new(pacerStats), t0.Add(phase), 1)
	defer r.stop()
	r.add(s, t0.Add(phase))
	payload := make([]byte, 160)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 5}, Payload: payload}
	wire := make([]byte, 1500)
	var rx rtp.Packet
	out := loneRun{minInterval: frameDur}
	ev := 0
	rtpOut := &sentChecker{far: far}
	var prev time.Time
	for k := 0; k < frames+20; k++ {
		now := s.paced.due // where the timer, re-armed at each move, expires next
		for ; ev < len(arr) && !t0.Add(arr[ev].at).After(now); ev++ {
			f := arr[ev].frame
			payload[0], payload[1] = byte(f/100), byte(f%100)
			for i := 2; i < len(payload); i++ {
				payload[i] = 0x40
			}
			pkt.SequenceNumber, pkt.Timestamp = uint16(f), uint32(f*codec.FrameSamples)
			n, _ := pkt.MarshalTo(wire)
			s.handleRTPAt(wire[:n], peer, &rx, t0.Add(arr[ev].at))
		}
		sent, played := s.Stats().PacketsSent, len(sink.frames)
		r.tick(now)
		if d := s.Stats().PacketsSent - sent; d != 1 {
			t.Fatalf("tick %d: sent %d frames, want 1", k, d)
		}
		rtpOut.next(t)
		if d := len(sink.frames) - played; d != 1 {
			t.Fatalf("tick %d: played %d frames, want 1", k, d)
		}
		if !prev.IsZero() {
			iv := now.Sub(prev)
			if iv > frameDur || iv <= 0 {
				t.Fatalf("tick %d came %v after the one before: ticks only ever move earlier, by less than a frame", k, iv)
			}
			out.minInterval = min(out.minInterval, iv)
			out.earlierTotal += frameDur - iv
		}
		prev = now
		if f := sink.frames[len(sink.frames)-1]; f >= 0 && k > 100 {
			out.added = append(out.added, now.Sub(t0)-time.Duration(f)*frameDur-20*time.Millisecond)
		}
		if time.Duration(r.period.Load()) != frameDur {
			t.Fatalf("tick %d: a lone session's timer period is %v", k, time.Duration(r.period.Load()))
		}
	}
	out.late, out.moves, out.trimmed = s.rx.jitterStats().Late, r.stats.moves.Load(), sink.trimmed
	return out
}

// audiotestSource is an audio.Source (the tests' loopSource or aheadSource).
type audiotestSource interface {
	Read([]int16) error
	Close() error
}

// sentChecker reads, after each tick, the datagram the session sent and checks that its
// sequence number and timestamp follow on from the one before, one frame each.
type sentChecker struct {
	far  *net.UDPConn
	buf  [1500]byte
	pkt  rtp.Packet
	n    int
	seq  uint16
	ts   uint32
	sent int
}

func (c *sentChecker) next(t *testing.T) {
	t.Helper()
	if err := c.far.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	m, err := c.far.Read(c.buf[:])
	if err != nil {
		t.Fatalf("RTP packet %d: %v", c.n, err)
	}
	if err := c.pkt.Unmarshal(c.buf[:m]); err != nil {
		t.Fatalf("RTP packet %d: %v", c.n, err)
	}
	if c.n > 0 && (c.pkt.SequenceNumber != c.seq+1 || c.pkt.Timestamp != c.ts+codec.FrameSamples) {
		t.Fatalf("RTP packet %d: seq %d ts %d after seq %d ts %d: a frame skipped or repeated", c.n, c.pkt.SequenceNumber, c.pkt.Timestamp, c.seq, c.ts)
	}
	c.seq, c.ts = c.pkt.SequenceNumber, c.pkt.Timestamp
	c.n++
}

// TestPacerMovesLoneTicks: a lone session's ticks, moved by the pacer at concealed or silent
// frames (phaseShift less phaseMargin), play the median frame within minWait, the margin and a
// step of the largest jitter, whatever phase the grid started at, and never later than fixed
// ticks; late loss stays under 1 %; every tick sends one frame and plays one (the RTP sent
// has every sequence number once), the timer stays at one expiry a frame, and a sink with a
// queue of its own is asked to drop exactly as much as the ticks moved.
func TestPacerMovesLoneTicks(t *testing.T) {
	if _, err := newFrameTimer(frameDur); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no timerfd: sessions pace themselves, the shared pacer does not run here")
	}
	const frames = 1200
	base := 20 * time.Millisecond
	tone := audiotest.NewTone(1000, 0.5).Samples(codec.SampleRate)
	var sumFixed, sumMoved time.Duration
	runs := 0
	for seed := uint64(5); seed <= 6; seed++ {
		for _, ph := range []time.Duration{2, 9, 16} {
			phase := ph * time.Millisecond
			arr, jit := impairedArrivals(seed, frames, base, 40*time.Millisecond, 0.01, 0.3)
			fixed, fl, _ := receiveImpaired(t, arr, frames, base, phase, time.Millisecond, false)
			got := pacedImpaired(t, arr, frames, phase, &loopSource{pcm: tone})
			maxJit := pctDur(jit, 1)
			fm, mm := pctDur(fixed, .5), pctDur(got.added, .5)
			sumFixed, sumMoved, runs = sumFixed+fm, sumMoved+mm, runs+1
			t.Logf("seed %d phase %v: fixed median %v late %d; moved median %v p95 %v late %d (%d moves, shortest tick %v); jitter max %v",
				seed, phase, fm, fl, mm, pctDur(got.added, .95), got.late, got.moves, got.minInterval, maxJit)
			bound := maxJit + minWait + phaseMargin + loneStep
			if got.moves == 0 && fm > bound {
				t.Errorf("seed %d phase %v: the ticks never moved, fixed median %v", seed, phase, fm)
			}
			if mm > bound || mm > fm {
				t.Errorf("seed %d phase %v: moved median %v, want ≤ %v and ≤ fixed %v", seed, phase, mm, bound, fm)
			}
			if got.late*100 >= uint64(len(jit)) {
				t.Errorf("seed %d phase %v: %d of %d packets late", seed, phase, got.late, len(jit))
			}
			if want := int(got.earlierTotal * codec.SampleRate / time.Second); got.trimmed != want {
				t.Errorf("seed %d phase %v: the sink was asked to drop %d samples, the ticks moved %v (%d samples)", seed, phase, got.trimmed, got.earlierTotal, want)
			}
		}
	}
	t.Logf("average median added delay over %d runs: fixed ticks %v, the pacer's moved ticks %v", runs, sumFixed/time.Duration(runs), sumMoved/time.Duration(runs))
	// A microphone that could deliver its next frame at most 2 ms early bounds every move.
	arr, _ := impairedArrivals(5, 600, base, 40*time.Millisecond, 0.01, 0.3)
	got := pacedImpaired(t, arr, 600, 9*time.Millisecond, &aheadSource{loopSource: loopSource{pcm: tone}, ahead: 2 * time.Millisecond})
	if got.moves == 0 || got.minInterval < frameDur-2*time.Millisecond {
		t.Errorf("source 2 ms ahead: %d moves, shortest tick %v, want moves of at most 2 ms", got.moves, got.minInterval)
	}
}

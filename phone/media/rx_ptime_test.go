package media

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// pcmSink keeps every sample written to it, at the call's own rate (audio.RateSetter).
type pcmSink struct{ pcm []int16 }

func (s *pcmSink) Write(pcm []int16) error { s.pcm = append(s.pcm, pcm...); return nil }
func (s *pcmSink) Close() error            { return nil }
func (s *pcmSink) SetRate(int) error       { return nil }

// TestReceiveOtherPacketDurations: a far end may send packets of other than our 20 ms (a=ptime
// is only a wish; 10, 30, 40 and 60 ms are all met in the field). Through the whole receive
// path (handleRTPAt, playFrame at 20 ms ticks), packets that arrive on time play every sample
// they carry, in order, and nothing else, whatever the phase of the ticks against the packets:
// before, a 30 ms packet was filed as one 20 ms frame, so a third of the far end's audio was
// cut off and concealed; and a first fix lost every other 30 ms packet at some tick phases.
func TestReceiveOtherPacketDurations(t *testing.T) {
	for _, ms := range []int{5, 10, 20, 30, 40, 60} {
		t.Run(fmt.Sprintf("%dms", ms), func(t *testing.T) {
			for ph := range 20 {
				phase := time.Duration(ph) * time.Millisecond
				sent, played, _ := receivePaced(t, codec.PCMU, slices.Repeat([]int{ms}, 2400/ms), nil, phase, 0)
				want := make([]int16, len(sent)) // the stream as sent, decoded: what the far end said
				codec.PCMU.DecodeTo(want, sent)
				if _, run := alignRun(played, want); run < len(want) {
					t.Fatalf("%d ms packets, ticks at phase %v: the first %d of %d samples played in order (%.0f %% of the audio)",
						ms, phase, run, len(want), 100*float64(run)/float64(len(want)))
				}
			}
		})
	}
}

// TestReceivePacedUnderJitter: packets of 10 and 30 ms with up to 10 ms of seeded arrival
// jitter, at every tick phase: the buffer grows to hold them, so under 1 % come too late (a
// first fix told each Pop a time after the tick, so the buffer never grew: up to 31 % of 10 ms
// packets were late at some phases).
func TestReceivePacedUnderJitter(t *testing.T) {
	for _, ms := range []int{10, 30} {
		for ph := range 20 {
			phase := time.Duration(ph) * time.Millisecond
			n := 30000 / ms
			_, _, st := receivePaced(t, codec.PCMU, slices.Repeat([]int{ms}, n), nil, phase, 10*time.Millisecond)
			if late := st.Late; late*100 >= uint64(n) {
				t.Errorf("%d ms packets, ticks at phase %v, 0-10 ms jitter: %d of %d late", ms, phase, late, n)
			}
		}
	}
}

// TestReceivePacedAfterAPaceChangeUnderJitter: 30 ms packets, then 40 ms ones under 0-10 ms of
// jitter, at every tick phase: under 1 % late. The change leaves 30 ms-pace samples queued; the
// Pops must still not be told a time after their tick (they were, 10 ms after it, for the rest
// of the call: 10-12 % late at some phases).
func TestReceivePacedAfterAPaceChangeUnderJitter(t *testing.T) {
	const n = 750
	for ph := range 20 {
		phase := time.Duration(ph) * time.Millisecond
		pace := append(slices.Repeat([]int{30}, 20), slices.Repeat([]int{40}, n)...)
		_, _, st := receivePaced(t, codec.PCMU, pace, nil, phase, 10*time.Millisecond)
		if late := st.Late; late*100 >= n {
			t.Errorf("ticks at phase %v: %d of %d packets late after the change to 40 ms", phase, late, n)
		}
	}
}

// TestReceivePacedStartsAtOnce: the first 60 ms packet (it arrives 61 ms in) plays at the
// first tick it can, whatever the tick phase: by 80 ms. While nothing plays yet, each tick adds
// only its own 20 ms of silence; a whole packet's worth (60 ms) of it put the start off to
// 120 ms at some phases.
func TestReceivePacedStartsAtOnce(t *testing.T) {
	for ph := range 20 {
		phase := time.Duration(ph) * time.Millisecond
		sent, played, _ := receivePaced(t, codec.PCMU, slices.Repeat([]int{60}, 20), nil, phase, 0)
		want := make([]int16, len(sent))
		codec.PCMU.DecodeTo(want, sent)
		if off, _ := alignRun(played, want); off < 0 || off > 80*8 {
			t.Errorf("ticks at phase %v: the first sample played %d samples (%v) into the call, want ≤ 80 ms", phase, off, time.Duration(off)*time.Second/8000)
		}
	}
}

// TestReceiveStrayPacketsDoNotRetime: one packet of another duration in a 20 ms stream (30 ms),
// or two off the 2.5 ms grid (161 octets), is not a new pace: the buffer is not re-timed, which
// would drop what it holds (a resync), and the stream plays on.
func TestReceiveStrayPacketsDoNotRetime(t *testing.T) {
	for name, odd := range map[string][]int{"one 30 ms": {240}, "two of 161 octets": {161, 161}} {
		sent, played, st := receiveOctets(t, append(append(slices.Repeat([]int{160}, 50), odd...), slices.Repeat([]int{160}, 50)...))
		if st.Resyncs != 0 || st.Frame != 20*time.Millisecond {
			t.Errorf("%s: the buffer was re-timed (%d resyncs, frame %v)", name, st.Resyncs, st.Frame)
		}
		want := make([]int16, len(sent))
		codec.PCMU.DecodeTo(want, sent)
		tail := want[len(want)-30*160:] // the last 600 ms: whatever the odd packets cost, over by then
		if _, run := alignRun(played, tail); run != len(tail) {
			t.Errorf("%s: %d of the last %d samples played in order", name, run, len(tail))
		}
	}
}

// TestReceivePaceChangesMidStream: a far end that moves from 20 to 30 ms packets mid-call (a
// PBX that bridges us to another leg) is followed: the buffer re-times once, losing at most
// four packets, and every sample after them plays in order.
func TestReceivePaceChangesMidStream(t *testing.T) {
	pace := append(slices.Repeat([]int{20}, 50), slices.Repeat([]int{30}, 100)...)
	sent, played, _ := receivePaced(t, codec.PCMU, pace, nil, 7*time.Millisecond, 0)
	want := make([]int16, len(sent))
	codec.PCMU.DecodeTo(want, sent)
	if _, run := alignRun(played, want[:8000]); run < 7000 { // the 20 ms part, but its last frames
		t.Fatalf("the 20 ms part: %d of its first 7000 samples played in order", run)
	}
	// Re-timing drops what was buffered: the packets that showed the change, and the start
	// of the first one after it, faded in from the concealment. Within four packets (120 ms)
	// every sample plays, in order, to the end.
	for from := 8000; from <= 8000+4*240; from += 40 {
		if _, run := alignRun(played, want[from:]); run == len(want)-from {
			t.Logf("the 30 ms packets all play from sample %d of the change's %d", from, 8000)
			return
		}
	}
	t.Fatal("after the change to 30 ms packets, the audio never plays whole")
}

// TestReceivePacedLossIsConcealedWhole: a lost 40 ms packet of a codec that conceals 20 ms at
// a time (Opus; here a stand-in) is concealed for all its 40 ms, by the codec, and the packets around it play
// whole.
func TestReceivePacedLossIsConcealedWhole(t *testing.T) {
	c := fakeG722                 // 16 kHz audio, one octet a sample: a 40 ms packet fits the buffer's 1500 octets
	c.conceal, c.fec = true, true // FEC rebuilds a 20 ms frame: not used for a 40 ms packet
	const lost = 30
	sent, played, _ := receivePaced(t, c, slices.Repeat([]int{40}, 80), map[int]bool{lost: true}, 7*time.Millisecond, 0)
	want := make([]int16, len(sent))
	codec.PCMU.DecodeTo(want, sent) // the fake codec is µ-law at its audio rate
	per := 40 * 16
	off, run := alignRun(played, want)
	if run != lost*per {
		t.Fatalf("before the loss: %d samples played in order, want %d", run, lost*per)
	}
	gap := played[off+run:]
	marks := 0
	for marks < len(gap) && gap[marks] == fakeConcealMark {
		marks++
	}
	if marks != per {
		t.Fatalf("the lost packet: %d samples of the codec's concealment, want %d (40 ms)", marks, per)
	}
	rest := want[(lost+1)*per:]
	if _, run := alignRun(gap[marks:], rest); run < len(rest) {
		t.Fatalf("after the loss: %d of %d samples played in order", run, len(rest))
	}
}

// receivePaced sends packets of the durations in pace (ms) of µ-law noise, each arriving 1 ms
// after its last sample was spoken, all but the lost ones, through a session of codec c played
// at 20 ms ticks (at phase past the first packet's start) until all is played. It returns the
// payload octets sent (one per sample), the samples played and how many packets came too late.
func receivePaced(t *testing.T, c codec.Codec, pace []int, lost map[int]bool, phase, jitter time.Duration) (sent []byte, played []int16, st JitterStats) {
	t.Helper()
	sizes := make([]int, len(pace))
	for i, ms := range pace {
		sizes[i] = ms * c.SampleRate() / 1000
	}
	return receiveSized(t, c, sizes, lost, phase, jitter)
}

// receiveOctets is receivePaced for PCMU packets of the given sizes (octets, one a sample), on
// time, at ticks 7 ms past the first packet's start.
func receiveOctets(t *testing.T, sizes []int) (sent []byte, played []int16, st JitterStats) {
	t.Helper()
	return receiveSized(t, codec.PCMU, sizes, nil, 7*time.Millisecond, 0)
}

// receiveSized is receivePaced with each packet's duration in samples at c's audio rate.
func receiveSized(t *testing.T, c codec.Codec, sizes []int, lost map[int]bool, phase, jitter time.Duration) (sent []byte, played []int16, st JitterStats) {
	t.Helper()
	s, peer, clock := clockedSession(t)
	t0 := *clock
	sink := &pcmSink{}
	p := Params{Remote: peer, Codec: c, DTMFPT: 101, Receive: true, Sink: sink}
	s.Update(p)
	rng := rand.New(rand.NewPCG(7, uint64(len(sizes))))
	total := 0
	for _, n := range sizes {
		total += n
	}
	rate := c.SampleRate()
	span := func(samples int) time.Duration { return time.Duration(samples) * time.Second / time.Duration(rate) }
	sent = make([]byte, total)
	for i := range sent {
		sent[i] = byte(rng.IntN(256)) | 0x80 // positive half of µ-law: distinct, never silent
	}
	// Each packet leaves when its last sample is spoken and arrives 1 ms later, plus up to
	// jitter, seeded; they are read in the order they arrive.
	type arrival struct {
		k, at int // the packet, and where its audio starts (samples)
		when  time.Time
	}
	var arr []arrival
	for k, at := 0, 0; k < len(sizes); k++ {
		if !lost[k] {
			d := span(at+sizes[k]) + time.Millisecond
			if jitter > 0 {
				d += time.Duration(rng.Int64N(int64(jitter)))
			}
			arr = append(arr, arrival{k, at, t0.Add(d)})
		}
		at += sizes[k]
	}
	slices.SortStableFunc(arr, func(a, b arrival) int { return a.when.Compare(b.when) })
	wire := make([]byte, 8000)
	out := make([]int16, codec.FrameSamplesAt(rate))
	var rx rtp.Packet
	next := 0
	for tick := 0; time.Duration(tick)*20*time.Millisecond < span(total)+300*time.Millisecond+jitter; tick++ {
		now := t0.Add(time.Duration(tick)*20*time.Millisecond + phase)
		*clock = now
		for ; next < len(arr) && !arr[next].when.After(now); next++ {
			a := arr[next]
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: c.PayloadType(), SSRC: 9,
				SequenceNumber: uint16(100 + a.k), Timestamp: uint32(5000 + a.at*c.ClockRate()/rate)},
				Payload: sent[a.at : a.at+sizes[a.k]]}
			n, err := pkt.MarshalTo(wire)
			if err != nil {
				t.Fatal(err)
			}
			s.handleRTPAt(wire[:n], peer, &rx, a.when)
		}
		s.rx.playFrame(s, p, now, out)
	}
	return sent, sink.pcm, s.rx.jitterStats()
}

// clockedSession opens a session whose clock is *now (at first 1000 s past the epoch), with a
// far end at peer; the test closes it.
func clockedSession(t *testing.T) (s *Session, peer netip.AddrPort, now *time.Time) {
	t.Helper()
	now = new(time.Time)
	*now = time.Unix(1000, 0)
	s = openSession(t, Config{Now: func() time.Time { return *now }})
	return s, netip.MustParseAddrPort("127.0.0.1:40000"), now
}

// alignRun finds where want's first samples start in got and how many samples match in a row
// from there (-1: never).
func alignRun(got, want []int16) (off, run int) {
	const probe = 32
	for i := 0; i+probe <= len(got); i++ {
		if !slices.Equal(got[i:i+probe], want[:probe]) {
			continue
		}
		n := 0
		for i+n < len(got) && n < len(want) && got[i+n] == want[n] {
			n++
		}
		return i, n
	}
	return -1, 0
}

// TestReceivePacedAllocatesNothing: playing 30 ms packets at 20 ms ticks allocates nothing
// per frame once the queue is made (the first packet of the pace).
func TestReceivePacedAllocatesNothing(t *testing.T) {
	s, peer, now := clockedSession(t)
	p := Params{Remote: peer, Codec: codec.PCMU, DTMFPT: 101, Receive: true, Sink: nullSink{}}
	s.Update(p)
	wire := make([]byte, 1500)
	out := make([]int16, codec.FrameSamples)
	var rx rtp.Packet
	k := 0
	frame := func() { // three 20 ms ticks, two 30 ms packets
		for range 2 {
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 9, SequenceNumber: uint16(k), Timestamp: uint32(k * 240)},
				Payload: make240}
			n, _ := pkt.MarshalTo(wire)
			s.handleRTPAt(wire[:n], peer, &rx, *now)
			k++
		}
		for range 3 {
			*now = now.Add(20 * time.Millisecond)
			s.rx.playFrame(s, p, *now, out)
		}
	}
	for range 50 {
		frame()
	}
	if a := testing.AllocsPerRun(100, frame); a != 0 {
		t.Errorf("%v allocations per 60 ms of 30 ms packets", a)
	}
	if d, st := s.rx.jb.FrameDuration(), s.rx.jitterStats(); d != 30*time.Millisecond || st.Played < 200 {
		t.Errorf("the buffer's frame is %v and it played %d packets: the paced path was not the one measured", d, st.Played)
	}
}

var make240 = make([]byte, 240)

// nullSink takes frames and keeps nothing.
type nullSink struct{}

func (nullSink) Write([]int16) error { return nil }
func (nullSink) Close() error        { return nil }
func (nullSink) SetRate(int) error   { return nil }

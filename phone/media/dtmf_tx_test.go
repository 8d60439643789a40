package media

import (
	"net"
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	"github.com/pion/rtp"
)

// dtmfRig is a session whose pacer never runs: the test sends each 20 ms frame itself and
// reads what went out, so the packet timing is exact and nothing sleeps.
type dtmfRig struct {
	t    *testing.T
	s    *Session
	far  *net.UDPConn
	p    Params
	pcm  []int16
	buf  []byte
	pkt  rtp.Packet
	rbuf []byte
}

func newDTMFRig(t *testing.T, pt int) *dtmfRig {
	t.Helper()
	s := openSession(t, Config{NewTicker: noTicks})
	far := udpSocket(t)
	p := Params{Remote: far.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec.PCMU, DTMFPT: pt, Send: true}
	s.Update(p)
	return &dtmfRig{t: t, s: s, far: far, p: p, pcm: make([]int16, codec.FrameSamples), buf: make([]byte, 1500), rbuf: make([]byte, 1500)}
}

// frame sends one 20 ms frame and returns the packet that went out.
func (r *dtmfRig) frame() rtp.Packet {
	r.t.Helper()
	r.s.tx.sendFrame(r.s, r.s.current(), r.pcm, r.buf, &r.pkt)
	r.far.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _, err := r.far.ReadFrom(r.rbuf)
	if err != nil {
		r.t.Fatalf("no packet for a frame: %v", err)
	}
	var got rtp.Packet
	if err := got.Unmarshal(append([]byte(nil), r.rbuf[:n]...)); err != nil {
		r.t.Fatalf("bad RTP: %v", err)
	}
	return got
}

// TestDTMFSendPackets reads every packet of "1" then "#" between audio frames: one
// timestamp per event, the marker on its first packet only, the duration growing by a frame
// per packet to DTMFDuration, the End packet three times with the final duration, sequence
// numbers and timestamps continuing the audio stream's, the negotiated payload type, and the
// gap before the next digit.
func TestDTMFSendPackets(t *testing.T) {
	const pt = 96 // not the usual 101: the negotiated type must be used
	r := newDTMFRig(t, pt)
	first := r.frame() // audio before
	if first.PayloadType != codec.PCMU.PayloadType() {
		t.Fatalf("first packet PT %d, want audio", first.PayloadType)
	}
	if err := r.s.SendDTMFString("1#"); err != nil {
		t.Fatal(err)
	}
	const endRepeats = 3                  // RFC 4733 2.5.1.4: the End packet goes out three times
	total := int(DTMFDuration / frameDur) // packets until the End
	gapFrames := int(DTMFGap / frameDur)
	seq, ts := first.SequenceNumber, first.Timestamp
	next := func() rtp.Packet {
		p := r.frame()
		seq++
		ts += codec.FrameSamples
		if p.SequenceNumber != seq {
			t.Fatalf("sequence %d, want %d: the stream's numbering must continue", p.SequenceNumber, seq)
		}
		return p
	}
	var eventStarts []uint32
	for _, want := range []uint8{1, 11} {
		start := ts + codec.FrameSamples
		eventStarts = append(eventStarts, start)
		for i := 0; i < total+endRepeats-1; i++ {
			p := next()
			if int(p.PayloadType) != pt {
				t.Fatalf("event %d packet %d: PT %d, want %d", want, i, p.PayloadType, pt)
			}
			if p.Timestamp != start {
				t.Fatalf("event %d packet %d: timestamp %d, want the event start %d", want, i, p.Timestamp, start)
			}
			if p.Marker != (i == 0) {
				t.Fatalf("event %d packet %d: marker %v", want, i, p.Marker)
			}
			ev, err := codec.ParseDTMFEvent(p.Payload)
			if err != nil {
				t.Fatal(err)
			}
			wantDur := uint16(min(i+1, total) * codec.FrameSamples)
			if ev.Event != want || ev.Duration != wantDur || ev.End != (i >= total-1) || ev.Volume != dtmfVolume {
				t.Fatalf("event %d packet %d: %+v, want duration %d end %v", want, i, ev, wantDur, i >= total-1)
			}
		}
		// The gap: audio frames until the next digit, DTMFGap after this one's end.
		for i := 0; i < gapFrames-(endRepeats-1); i++ {
			if p := next(); p.PayloadType != codec.PCMU.PayloadType() || p.Timestamp != ts {
				t.Fatalf("after event %d, gap frame %d: PT %d ts %d, want audio at %d", want, i, p.PayloadType, p.Timestamp, ts)
			}
		}
	}
	if gap := eventStarts[1] - eventStarts[0]; gap != uint32((DTMFDuration+DTMFGap)/frameDur)*codec.FrameSamples {
		t.Fatalf("second digit starts %d samples after the first, want %v + %v", gap, DTMFDuration, DTMFGap)
	}
	if p := next(); p.PayloadType != codec.PCMU.PayloadType() || p.Marker {
		t.Fatalf("after the digits: PT %d marker %v, want plain audio", p.PayloadType, p.Marker)
	}
}

// TestDTMFPause: ',' lets DTMFPause of audio pass before the next digit.
func TestDTMFPause(t *testing.T) {
	r := newDTMFRig(t, 101)
	if err := r.s.SendDTMFString(",5"); err != nil {
		t.Fatal(err)
	}
	start := r.frame()
	frames := 0
	for p := start; int(p.PayloadType) != 101; p = r.frame() {
		if frames++; frames > 100 {
			t.Fatal("the digit after the pause never came")
		}
	}
	if want := int(DTMFPause / frameDur); frames != want {
		t.Fatalf("digit after %d audio frames, want %d (%v)", frames, want, DTMFPause)
	}
}

// TestDTMFSendReceivedOnce: the packets of a digit string, End repeats included, come out of
// the receiver as each digit once, in order.
func TestDTMFSendReceivedOnce(t *testing.T) {
	r := newDTMFRig(t, 101)
	const digits = "0123456789*#ABCD"
	if err := r.s.SendDTMFString(digits + "55"); err != nil {
		t.Fatal(err)
	}
	var rx dtmfReceiver
	var got []rune
	for i := 0; i < 40*len(digits) && len(got) < len(digits)+2; i++ {
		p := r.frame()
		if p.PayloadType != 101 {
			continue
		}
		if d, ok := rx.handle(p.Timestamp, p.Payload); ok {
			got = append(got, d)
		}
	}
	if string(got) != digits+"55" {
		t.Fatalf("received %q, want %q", string(got), digits+"55")
	}
}

func TestDTMFBadInput(t *testing.T) {
	r := newDTMFRig(t, 101)
	for _, bad := range []string{"", "12x4", "1 2", "é"} {
		if err := r.s.SendDTMFString(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if len(r.s.dtmfQueue) != 0 {
		t.Fatalf("a refused string left %q queued", string(r.s.dtmfQueue))
	}
	big := make([]byte, maxDTMFQueue)
	for i := range big {
		big[i] = '1'
	}
	if err := r.s.SendDTMFString(string(big)); err != nil {
		t.Fatal(err)
	}
	if err := r.s.SendDTMFString("2"); err == nil {
		t.Error("a digit beyond the queue limit accepted")
	}
	p := r.p
	p.DTMFPT = -1
	r.s.Update(p)
	if err := r.s.SendDTMFString("1"); err == nil {
		t.Error("digit accepted without telephone-event")
	}
}

// TestDTMFCutByHold: a hold (Send off) in the middle of a digit ends the event after the
// resume with the duration reached before, three times, instead of stretching it over the
// hold; the next digit follows normally.
func TestDTMFCutByHold(t *testing.T) {
	r := newDTMFRig(t, 101)
	if err := r.s.SendDTMFString("38"); err != nil {
		t.Fatal(err)
	}
	first := r.frame()
	r.frame()
	p := r.p
	p.Send = false
	r.s.Update(p)
	for range 10 { // 200 ms on hold: nothing goes out
		r.s.tx.sendFrame(r.s, r.s.current(), r.pcm, r.buf, &r.pkt)
	}
	p.Send = true
	r.s.Update(p)
	for i := 0; i < 3; i++ { // RFC 4733 2.5.1.4: three End packets
		pk := r.frame()
		ev, err := codec.ParseDTMFEvent(pk.Payload)
		if err != nil || pk.Timestamp != first.Timestamp || ev.Event != 3 || !ev.End || ev.Duration != 2*codec.FrameSamples {
			t.Fatalf("after the hold, packet %d: ts %d (event %d) %+v, want the End of 3 at 320", i, pk.Timestamp, first.Timestamp, ev)
		}
	}
	var rx dtmfReceiver
	var got []rune
	for i := 0; i < 30 && len(got) < 1; i++ {
		if pk := r.frame(); pk.PayloadType == 101 {
			if d, ok := rx.handle(pk.Timestamp, pk.Payload); ok {
				got = append(got, d)
			}
		}
	}
	if string(got) != "8" {
		t.Fatalf("after the cut digit: %q, want 8", string(got))
	}
}

// TestDTMFReceiverTellsEventsApart: a new digit with the timestamp of the one before is
// reported (gateways stamp events with the last audio packet's time while none flows); the
// next segment of one long key press is not a second digit (RFC 4733 §2.5.1.3); a late End of
// an event before the last is not reported again. All three were keyed on the timestamp alone.
func TestDTMFReceiverTellsEventsApart(t *testing.T) {
	ev := func(event uint8, end bool, dur uint16) []byte {
		b := make([]byte, codec.DTMFEventLen)
		if _, err := (codec.DTMFEvent{Event: event, End: end, Volume: 10, Duration: dur}).MarshalTo(b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	var rx dtmfReceiver
	var got []rune
	feed := func(ts uint32, payload []byte) {
		if d, ok := rx.handle(ts, payload); ok {
			got = append(got, d)
		}
	}
	feed(1000, ev(1, false, 160))
	feed(1000, ev(1, true, 800))
	feed(1000, ev(1, true, 800))
	feed(1000, ev(2, false, 160)) // a new key, the same timestamp
	feed(1000, ev(2, true, 640))
	feed(3000, ev(5, false, 160))
	feed(1000, ev(2, true, 640))    // a late End of the event before
	feed(5000, ev(3, false, 65535)) // a long press: its first segment at its longest
	feed(5000+65535, ev(3, false, 160))
	feed(5000+65535, ev(3, true, 800))
	feed(80000, ev(3, false, 160)) // the same key pressed again
	feed(80000, ev(3, true, 800))
	feed(80000, ev(3, false, 160)) // and again, stamped alike: it starts after the End
	feed(80000, ev(3, true, 640))
	feed(7, ev(4, false, 160)) // a new stream's first event, its timestamps far behind
	if string(got) != "1253334" {
		t.Fatalf("digits %q, want 1253334", string(got))
	}
}

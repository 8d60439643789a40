package media

import (
	"net/netip"
	"testing"
	"time"
)

func TestLatchPolicy(t *testing.T) {
	sdp := netip.MustParseAddrPort("192.0.2.50:4000") // a private address in the far end's SDP
	nat := netip.MustParseAddrPort("198.51.100.2:61000")
	evil := netip.MustParseAddrPort("203.0.113.66:5000")
	t0 := time.Unix(1000, 0)
	type step struct {
		from    netip.AddrPort
		at      time.Duration
		ok, new bool
	}
	for _, c := range []struct {
		name   string
		strict bool
		steps  []step
		target netip.AddrPort
	}{
		{"sdp address latches", false, []step{{sdp, 0, true, false}, {nat, time.Second, false, false}}, sdp},
		{"foreign first packet latches", false, []step{{nat, time.Second, true, true}, {nat, 2 * time.Second, true, false}, {evil, 3 * time.Second, false, false}}, nat},
		{"window closed", false, []step{{nat, LatchWindow + time.Second, false, false}, {sdp, LatchWindow + 2*time.Second, true, false}}, sdp},
		{"sdp address wins over an early stranger", false, []step{{evil, 0, true, true}, {sdp, time.Second, true, false}, {evil, 2 * time.Second, false, false}}, sdp},
		{"strict", true, []step{{nat, 0, false, false}, {sdp, time.Second, true, false}}, sdp},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l latch
			l.reset(sdp, t0)
			for i, s := range c.steps {
				ok, latched := l.admit(s.from, sdp, !c.strict, t0.Add(s.at))
				if ok != s.ok || latched != s.new {
					t.Fatalf("step %d from %v: ok %v latched %v, want %v %v", i, s.from, ok, latched, s.ok, s.new)
				}
			}
			if got := l.rtpTarget(sdp); got != c.target {
				t.Fatalf("rtp target %v, want %v", got, c.target)
			}
		})
	}
}

func TestLatchRTCPTarget(t *testing.T) {
	sdp := netip.MustParseAddrPort("192.0.2.50:4000")
	sdpRTCP := netip.MustParseAddrPort("192.0.2.50:4001")
	nat := netip.MustParseAddrPort("198.51.100.2:61000")
	var l latch
	t0 := time.Unix(0, 0)
	l.reset(sdp, t0)
	if got := l.rtcpTarget(sdp, sdpRTCP); got != sdpRTCP {
		t.Fatalf("before latching: %v", got)
	}
	l.admit(nat, sdp, true, t0)
	if got := l.rtcpTarget(sdp, sdpRTCP); got != netip.MustParseAddrPort("198.51.100.2:61001") {
		t.Fatalf("latched, no RTCP seen: %v", got)
	}
	if l.noteRTCP(netip.MustParseAddrPort("203.0.113.9:1"), sdpRTCP) {
		t.Fatal("RTCP from a stranger accepted")
	}
	rtcpFrom := netip.MustParseAddrPort("198.51.100.2:61500")
	if !l.noteRTCP(rtcpFrom, sdpRTCP) {
		t.Fatal("RTCP from the latched host refused")
	}
	if got := l.rtcpTarget(sdp, sdpRTCP); got != rtcpFrom {
		t.Fatalf("latched with RTCP seen: %v, want %v", got, rtcpFrom)
	}
	// A re-INVITE moves the far end: targets follow the new SDP until it speaks.
	moved := netip.MustParseAddrPort("198.51.100.3:7000")
	if got := l.rtpTarget(moved); got != moved {
		t.Fatalf("after a move: %v", got)
	}
}

// TestLatchAfterAMove: the far end moves (a re-INVITE, or the fork that answers after another
// played early media). A stray packet of the old stream must not take the new one; the old
// source itself latches once it keeps sending (a NAT mapping kept across a hold and resume);
// a new source latches over it.
func TestLatchAfterAMove(t *testing.T) {
	gwA := netip.MustParseAddrPort("203.0.113.5:20000")  // played early media from its SDP address
	sdpB := netip.MustParseAddrPort("192.168.1.20:4000") // the fork that answered, behind a NAT
	natB := netip.MustParseAddrPort("198.51.100.9:35000")
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

	var l latch
	l.reset(gwA, t0)
	if ok, _ := l.admit(gwA, gwA, true, at(0)); !ok {
		t.Fatal("early media from the SDP address was refused")
	}
	l.reset(sdpB, at(1000)) // answered
	if ok, _ := l.admit(gwA, sdpB, true, at(1001)); ok {
		t.Fatal("a stray packet of the early media latched the answered stream")
	}
	for i := range 50 {
		if ok, _ := l.admit(natB, sdpB, true, at(1020+20*i)); !ok {
			t.Fatalf("packet %d from the answering fork's NAT dropped", i)
		}
	}
	if ok, _ := l.admit(gwA, sdpB, true, at(2100)); ok || l.rtpTarget(sdpB) != natB {
		t.Fatalf("after the move: a late early-media packet accepted %v, target %v, want %v", ok, l.rtpTarget(sdpB), natB)
	}

	// Held and resumed from behind the same NAT mapping: the old source latches on its 4th
	// packet in a row.
	l.reset(netip.MustParseAddrPort("192.168.1.20:4002"), at(3000))
	for i := range latchProbation {
		ok, latched := l.admit(natB, l.sdp, true, at(3020+20*i))
		if want := i == latchProbation-1; ok != want || latched != want {
			t.Fatalf("old source, packet %d: ok %v latched %v, want %v", i, ok, latched, want)
		}
	}
	// A new source takes it over in the window (the far end really is somewhere else), once it
	// too sent 4 in a row: one stranger's packet does not.
	other := netip.MustParseAddrPort("198.51.100.77:40000")
	for i := range latchProbation {
		ok, latched := l.admit(other, l.sdp, true, at(3200+20*i))
		if want := i == latchProbation-1; ok != want || latched != want {
			t.Fatalf("a new source over an old one, packet %d: ok %v latched %v, want %v", i, ok, latched, want)
		}
	}
	if l.rtpTarget(l.sdp) != other {
		t.Fatalf("target %v, want %v", l.rtpTarget(l.sdp), other)
	}
	if ok, _ := l.admit(natB, l.sdp, true, at(3300)); ok {
		t.Fatal("the old source took the stream back from the new one")
	}
}

// TestLatchMoveSeenFirstByAPacket: a packet of the new parameters reaches the latch before
// Update resets it for them (admit resets itself). Update's reset must not open the window a
// second time: what latched meanwhile would count as an old source, and the old stream's stray
// packets as new ones, which then took the stream.
func TestLatchMoveSeenFirstByAPacket(t *testing.T) {
	gwA := netip.MustParseAddrPort("203.0.113.5:20000")
	sdpB := netip.MustParseAddrPort("192.168.1.20:4000")
	natB := netip.MustParseAddrPort("198.51.100.9:35000")
	t0 := time.Unix(1000, 0)
	var l latch
	l.reset(gwA, t0)
	l.admit(gwA, gwA, true, t0)
	if ok, latched := l.admit(natB, sdpB, true, t0.Add(time.Second)); !ok || !latched {
		t.Fatal("the answering fork's first packet did not latch")
	}
	l.reset(sdpB, t0.Add(time.Second)) // Update, a moment later
	for i := range 3 {
		if ok, _ := l.admit(gwA, sdpB, true, t0.Add(time.Second+time.Duration(i+1)*time.Millisecond)); ok {
			t.Fatal("a stray early-media packet took the stream after Update's reset")
		}
	}
	if l.rtpTarget(sdpB) != natB {
		t.Fatalf("target %v, want %v", l.rtpTarget(sdpB), natB)
	}
}

// TestLatchSparseOldSourceAfterTheWindow: after a move, the far end's old source sends only now
// and then (comfort noise every few seconds), too few to prove itself in the window; with
// nothing else latched, it is taken when the window has closed.
func TestLatchSparseOldSourceAfterTheWindow(t *testing.T) {
	sdp := netip.MustParseAddrPort("192.168.1.20:4000")
	nat := netip.MustParseAddrPort("198.51.100.9:35000")
	stranger := netip.MustParseAddrPort("203.0.113.66:5000")
	t0 := time.Unix(1000, 0)
	var l latch
	l.reset(sdp, t0)
	l.admit(nat, sdp, true, t0)
	moved := netip.MustParseAddrPort("192.168.1.20:4002")
	l.reset(moved, t0.Add(time.Second))
	for i := range 3 { // one every 3 s: three in the window
		if ok, _ := l.admit(nat, moved, true, t0.Add(time.Duration(2+3*i)*time.Second)); ok {
			t.Fatalf("sparse packet %d latched in the window", i)
		}
	}
	if ok, _ := l.admit(stranger, moved, true, t0.Add(12*time.Second)); ok {
		t.Fatal("a stranger latched after the window")
	}
	if ok, latched := l.admit(nat, moved, true, t0.Add(14*time.Second)); !ok || !latched || l.rtpTarget(moved) != nat {
		t.Fatalf("the far end's old source after the window: ok %v latched %v target %v", ok, latched, l.rtpTarget(moved))
	}
}

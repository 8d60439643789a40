package phone

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/interop/peers"
)

// Hold, call waiting and DND against baresip 1.0, a real far end started by the test on
// loopback; audio is checked as audio (Goertzel) in the phase where it must flow.

// phases splits what a call plays into phases (talking, on hold, resumed) and sends our tone.
type phases struct {
	mu   sync.Mutex
	cur  atomic.Int32
	got  [3][]int16
	tone *audiotest.Tone
}

func (p *phases) Write(frame []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.cur.Load()
	p.got[i] = append(p.got[i], frame...)
	return nil
}

func (p *phases) Read(frame []int16) error {
	return p.tone.Read(frame)
}

func (p *phases) Close() error { return nil }

func (p *phases) next() { p.cur.Add(1) }

// heard reports whether phase i holds the tone freq, and how much audio it holds.
func (p *phases) heard(i int, freq float64) (bool, float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.got[i]
	if len(s) < 8000 {
		return false, float64(len(s)) / 8000
	}
	found, _, _ := audiotest.DetectTone(s[4000:], 8000, freq) // past the jitter buffer's fill
	return found, float64(len(s)) / 8000
}

// baresipReceived is how many RTP packets baresip has received from us: its audio_debug
// command's RTCP member line ("psent=... rcvd=N"). Baresip 1.0 drops its sndfile decode filter
// when a re-INVITE restarts its player, so its recording cannot show audio after a hold; its
// packet count can.
func baresipReceived(t *testing.T, b *peers.Baresip) int {
	t.Helper()
	out, err := b.Command("audio_debug", "")
	if err != nil {
		t.Fatalf("baresip audio_debug: %v", err)
	}
	m := regexp.MustCompile(`rcvd=(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no rcvd= in baresip's audio_debug:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestBaresipHeldByDialtone: dialtone holds baresip: no RTP from dialtone while it holds,
// nothing played; after resume both hear each other's tone (ours is sent only after resume).
func TestBaresipHeldByDialtone(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 500})
	a, _, aEv := runPhone(t, Config{})
	ph := &phases{tone: audiotest.NewTone(1000, 0.5)}
	id, err := a.Dial("", bob.AOR(), CallAudio{Source: ph, Sink: ph}, DialOptions{RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallAnswered)
	time.Sleep(2 * time.Second)
	if ok, secs := ph.heard(0, 500); !ok {
		t.Fatalf("no 500 Hz from baresip before hold (%.1f s of audio)", secs)
	}

	ph.next()
	if err := a.Hold(id); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, id, true, "local")
	if s := status(t, a, id); s.State != CallHolding {
		t.Fatalf("state %v, want holding", s.State)
	}
	before, bBefore := sent(t, a, id), baresipReceived(t, bob)
	time.Sleep(2 * time.Second)
	if d := sent(t, a, id) - before; d != 0 {
		t.Fatalf("%d RTP packets sent in 2 s of hold, want none", d)
	}
	if d := baresipReceived(t, bob) - bBefore; d > 1 { // one frame may have been on its way
		t.Fatalf("baresip received %d RTP packets from us in 2 s of hold, want none", d)
	}
	if ok, secs := ph.heard(1, 500); ok || secs > 0.2 {
		t.Fatalf("played %.1f s (tone %v) while holding, want nothing", secs, ok)
	}

	ph.next()
	if err := a.Resume(id); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, id, false, "local")
	bBefore = baresipReceived(t, bob)
	time.Sleep(3 * time.Second)
	if ok, secs := ph.heard(2, 500); !ok {
		t.Fatalf("no 500 Hz from baresip after resume (%.1f s of audio)\n%s", secs, bob.Log())
	}
	if d := baresipReceived(t, bob) - bBefore; d < 100 {
		t.Fatalf("baresip received %d RTP packets from us in 3 s after resume, want ~150", d)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallEnded)
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if log := bob.Log(); !strings.Contains(log, "a=sendonly") {
		t.Errorf("baresip's log shows no sendonly offer from us")
	}
}

// TestBaresipHoldsDialtone: baresip holds dialtone (its hold command): dialtone shows it as
// held by the far end and sends nothing; after baresip's resume audio flows both ways.
func TestBaresipHoldsDialtone(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", AutoAnswer: true, ToneHz: 500})
	a, _, aEv := runPhone(t, Config{})
	ph := &phases{tone: audiotest.NewTone(1000, 0.5)}
	id, err := a.Dial("", bob.AOR(), CallAudio{Source: ph, Sink: ph}, DialOptions{RingTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallAnswered)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	ph.next()
	if _, err := bob.Command("hold", ""); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, id, true, "remote")
	if s := status(t, a, id); s.State != CallHeld || !s.RemoteHeld || s.Held {
		t.Fatalf("state %v held=%v remote=%v, want held by the far end", s.State, s.Held, s.RemoteHeld)
	}
	before, bBefore := sent(t, a, id), baresipReceived(t, bob)
	time.Sleep(2 * time.Second)
	if d := sent(t, a, id) - before; d != 0 {
		t.Fatalf("%d RTP packets sent in 2 s while held (recvonly), want none", d)
	}
	if d := baresipReceived(t, bob) - bBefore; d > 1 {
		t.Fatalf("baresip received %d RTP packets from us while it held us, want none", d)
	}
	ph.next()
	if _, err := bob.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallAnswered) // the state comes before the hold event
	waitHold(t, aEv, id, false, "remote")
	bBefore = baresipReceived(t, bob)
	time.Sleep(3 * time.Second)
	if ok, secs := ph.heard(2, 500); !ok {
		t.Fatalf("no 500 Hz from baresip after its resume (%.1f s)", secs)
	}
	if d := baresipReceived(t, bob) - bBefore; d < 100 {
		t.Fatalf("baresip received %d RTP packets from us in 3 s after its resume, want ~150", d)
	}
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestBaresipCallWaiting: two baresips call dialtone. The second rings while the first is
// answered; answering it holds the first; hanging up the second leaves the first, which
// resumes with audio.
func TestBaresipCallWaiting(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob", ToneHz: 500})
	carol := peers.StartBaresip(t, peers.BaresipOptions{User: "carol", ToneHz: 700})
	a, aAddr, aEv := runPhone(t, Config{})
	first := &phases{tone: audiotest.NewTone(1000, 0.5)}
	second := &phases{tone: audiotest.NewTone(1000, 0.5)}
	if err := bob.Dial("sip:a@" + aAddr); err != nil {
		t.Fatal(err)
	}
	id1 := waitCall(t, aEv, "", CallIncoming).ID
	if err := a.Answer(id1, CallAudio{Source: first, Sink: first}); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id1, CallAnswered)
	if err := carol.Dial("sip:a@" + aAddr); err != nil {
		t.Fatal(err)
	}
	id2 := waitCall(t, aEv, "", CallIncoming).ID
	first.next()
	if err := a.Answer(id2, CallAudio{Source: second, Sink: second}); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, id1, true, "local") // the second call's answered event may come before it
	for i := 0; i < 100 && status(t, a, id2).State != CallAnswered; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if s := status(t, a, id2); s.State != CallAnswered {
		t.Fatalf("second call %v, want answered", s.State)
	}
	time.Sleep(2500 * time.Millisecond)
	if ok, secs := second.heard(0, 700); !ok {
		t.Fatalf("no 700 Hz from carol on the second call (%.1f s)", secs)
	}
	if ok, secs := first.heard(1, 500); ok || secs > 0.2 {
		t.Fatalf("the held first call played %.1f s (bob's tone %v)", secs, ok)
	}
	if err := a.Hangup(id2); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id2, CallEnded)
	if s := status(t, a, id1); s.State != CallHolding {
		t.Fatalf("first call %v after the second ended, want holding", s.State)
	}
	first.next()
	if err := a.Resume(id1); err != nil {
		t.Fatal(err)
	}
	waitHold(t, aEv, id1, false, "local")
	time.Sleep(2500 * time.Millisecond)
	if ok, secs := first.heard(2, 500); !ok {
		t.Fatalf("no 500 Hz from bob after resume (%.1f s)", secs)
	}
	if err := a.Hangup(id1); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id1, CallEnded)
}

// TestBaresipDND: with DND on, baresip's call is refused 486, then 603 when set so; the
// phone keeps working (DND off: the next call rings).
func TestBaresipDND(t *testing.T) {
	t.Parallel()
	bob := peers.StartBaresip(t, peers.BaresipOptions{User: "bob"})
	a, aAddr, aEv := runPhone(t, Config{})
	for _, c := range []struct {
		code int
		want string
	}{{486, "486 Busy Here"}, {603, "603 Decline"}} {
		a.SetDND(true, c.code)
		if err := bob.Dial("sip:a@" + aAddr); err != nil {
			t.Fatal(err)
		}
		ev, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Param, c.want) {
			t.Fatalf("baresip's call closed with %q, want %q", ev.Param, c.want)
		}
	}
	a.SetDND(false, 0)
	if err := bob.Dial("sip:a@" + aAddr); err != nil {
		t.Fatal(err)
	}
	id := waitCall(t, aEv, "", CallIncoming).ID
	if err := a.Reject(id, 480); err != nil {
		t.Fatal(err)
	}
	waitCall(t, aEv, id, CallEnded)
}

package phone

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// fakeFlows is a transport whose connections the test opens, closes and silences.
type fakeFlows struct {
	mu      sync.Mutex
	open    map[string]bool
	silent  bool  // pings get no pong
	chatter bool  // pings get no pong, but other traffic comes in their wait
	pingErr error // pings fail to send
	pings   []string
	dropped []string
}

func (f *fakeFlows) alive(flow string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open[flow]
}

func (f *fakeFlows) ping(flow string) (*pongWait, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pingErr != nil {
		return nil, f.pingErr
	}
	f.pings = append(f.pings, flow)
	w := &pongWait{done: make(chan struct{}), pong: !f.chatter}
	if !f.silent {
		close(w.done)
	}
	return w, nil
}

func (f *fakeFlows) drop(flow string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropped = append(f.dropped, flow)
	f.open[flow] = false
}

func (f *fakeFlows) set(fn func(f *fakeFlows)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeFlows) counts() (pings, dropped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pings), len(f.dropped)
}

type keeperHarness struct {
	clock   *fakeClock
	flows   *fakeFlows
	mu      sync.Mutex
	current string
	losses  chan flowLoss
	waiting bool // the keeper's next timer was already seen
}

func startKeeper(t *testing.T, every time.Duration, current string) *keeperHarness {
	t.Helper()
	h := &keeperHarness{clock: newFakeClock(), flows: &fakeFlows{open: map[string]bool{current: true}},
		current: current, losses: make(chan flowLoss, 10)}
	k := &flowKeeper{account: "a", clock: h.clock, every: every, pongTimeout: 10 * time.Second, poll: time.Second,
		io: h.flows, lost: func(l flowLoss) { h.losses <- l }, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		current: func() string {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.current
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// tick moves time on by n polls, each one processed before the next.
func (h *keeperHarness) tick(t *testing.T, n int) {
	t.Helper()
	for range n {
		h.settle(t)
		h.waiting = false
		h.clock.Advance(time.Second)
	}
	h.settle(t)
}

// settle waits until the keeper has handled the last tick (it set its next timer).
func (h *keeperHarness) settle(t *testing.T) {
	t.Helper()
	if h.waiting {
		return
	}
	select {
	case <-h.clock.added:
		h.waiting = true
	case <-time.After(5 * time.Second):
		t.Fatal("the keeper set no timer")
	}
}

func (h *keeperHarness) noLoss(t *testing.T) {
	t.Helper()
	select {
	case l := <-h.losses:
		t.Fatalf("unexpected loss report: %+v", l)
	default:
	}
}

func (h *keeperHarness) loss(t *testing.T) flowLoss {
	t.Helper()
	select {
	case l := <-h.losses:
		return l
	default:
		t.Fatal("no loss reported")
	}
	return flowLoss{}
}

func TestFlowKeeperPingsEveryIntervalWhileAnswered(t *testing.T) {
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.tick(t, 24)
	if p, _ := h.flows.counts(); p != 0 {
		t.Fatalf("%d pings after 24 s, want 0", p)
	}
	h.tick(t, 1)
	if p, _ := h.flows.counts(); p != 1 {
		t.Fatalf("%d pings after 25 s, want 1", p)
	}
	h.tick(t, 75)
	if p, d := h.flows.counts(); p != 4 || d != 0 {
		t.Fatalf("after 100 s: %d pings, %d drops; want 4 pings, no drop", p, d)
	}
	h.noLoss(t)
}

func TestFlowKeeperReportsAClosedFlowWithinAPoll(t *testing.T) {
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.tick(t, 3)
	h.flows.set(func(f *fakeFlows) { f.open["127.0.0.1:40000"] = false })
	h.tick(t, 1)
	l := h.loss(t)
	if l.flow != "127.0.0.1:40000" || !strings.Contains(l.reason, "closed") {
		t.Fatalf("loss %+v, want the flow and a reason saying it closed", l)
	}
	// Reported once, however long the registration keeps pointing at it.
	h.tick(t, 30)
	h.noLoss(t)
	if p, _ := h.flows.counts(); p != 0 {
		t.Fatalf("%d pings on a dead flow", p)
	}
	// The new registration's flow is watched afresh.
	h.flows.set(func(f *fakeFlows) { f.open["127.0.0.1:40001"] = true })
	h.mu.Lock()
	h.current = "127.0.0.1:40001"
	h.mu.Unlock()
	h.tick(t, 26) // noticed at the first tick, pinged 25 s later
	if p, _ := h.flows.counts(); p != 1 {
		t.Fatalf("%d pings on the new flow after 26 s, want 1", p)
	}
	h.noLoss(t)
}

func TestFlowKeeperDropsAFlowThatStopsAnswering(t *testing.T) {
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.tick(t, 26) // the first ping, answered: this registrar answers pings
	h.flows.set(func(f *fakeFlows) { f.silent = true })
	h.tick(t, 24) // the second ping, at 50 s
	h.tick(t, 9)
	h.noLoss(t)
	if _, d := h.flows.counts(); d != 0 {
		t.Fatal("dropped before the pong timeout")
	}
	h.tick(t, 1) // 10 s without a pong
	l := h.loss(t)
	if l.flow != "127.0.0.1:40000" || !strings.Contains(l.reason, "did not answer a keep-alive within 10s") {
		t.Fatalf("loss %+v", l)
	}
	if p, d := h.flows.counts(); p != 2 || d != 1 {
		t.Fatalf("%d pings, %d drops; want 2 and 1 (the dead connection closed so the next REGISTER opens a new one)", p, d)
	}
}

// A registrar that never answers a ping (not every one implements RFC 5626's pong) is not
// taken for dead: the registration would flap every interval.
func TestFlowKeeperToleratesARegistrarThatNeverAnswers(t *testing.T) {
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.flows.set(func(f *fakeFlows) { f.silent = true })
	h.tick(t, 200)
	h.noLoss(t)
	if p, d := h.flows.counts(); p != 8 || d != 0 {
		t.Fatalf("%d pings, %d drops in 200 s; want 8 pings (they still hold NAT state) and no drop", p, d)
	}
	h.flows.set(func(f *fakeFlows) { f.open["127.0.0.1:40000"] = false })
	h.tick(t, 1)
	if l := h.loss(t); !strings.Contains(l.reason, "closed") {
		t.Fatalf("loss %+v, want the close noticed", l)
	}
}

// TestFlowKeeperTakesNoTrafficForAPong: a registrar that answers no ping, but sends something
// else in a ping's wait (a refresh's 200, a qualify OPTIONS), is still one that answers no
// ping: its silence at the next ping drops nothing. It was taken for one that answers, and
// the next ping's silence dropped a healthy connection, every refresh or so.
func TestFlowKeeperTakesNoTrafficForAPong(t *testing.T) {
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.flows.set(func(f *fakeFlows) { f.chatter = true })
	h.tick(t, 26) // the first ping's wait ends with other traffic
	h.flows.set(func(f *fakeFlows) { f.chatter, f.silent = false, true })
	h.tick(t, 100)
	h.noLoss(t)
	if _, d := h.flows.counts(); d != 0 {
		t.Fatal("a registrar that never answered a ping was dropped for not answering one")
	}
}

// TestFlowKeeperRegistersAgainAfterTheComputerSlept: a suspend longer than sleptMin, found at
// the keeper's next wake, drops the connection and reports it lost: the account registers
// again at once on a new one (keepalive.go's asleep says why).
func TestFlowKeeperRegistersAgainAfterTheComputerSlept(t *testing.T) {
	sleep := sleepOnce(t)
	h := startKeeper(t, 25*time.Second, "127.0.0.1:40000")
	h.tick(t, 30)
	h.noLoss(t)
	sleep(2 * time.Hour)
	h.tick(t, 25)
	if l := h.loss(t); !strings.Contains(l.reason, "asleep for 2h0m0s") {
		t.Fatalf("loss %+v, want the suspend", l)
	}
	if _, d := h.flows.counts(); d != 1 {
		t.Fatal("the connection from before the suspend was not dropped")
	}
}

func TestFlowKeeperDropsAFlowItCannotWriteTo(t *testing.T) {
	h := startKeeper(t, 5*time.Second, "127.0.0.1:40000")
	h.flows.set(func(f *fakeFlows) { f.pingErr = errors.New("broken pipe") })
	h.tick(t, 5)
	if l := h.loss(t); !strings.Contains(l.reason, "broken pipe") {
		t.Fatalf("loss %+v, want the write error", l)
	}
	if _, d := h.flows.counts(); d != 1 {
		t.Fatal("the unwritable connection was not dropped")
	}
}

func TestFlowKeeperWithKeepAlivesOffStillNoticesAClose(t *testing.T) {
	h := startKeeper(t, 0, "127.0.0.1:40000")
	h.tick(t, 200)
	if p, _ := h.flows.counts(); p != 0 {
		t.Fatalf("%d pings with keep-alives off", p)
	}
	h.flows.set(func(f *fakeFlows) { f.open["127.0.0.1:40000"] = false })
	h.tick(t, 1)
	h.loss(t)
}

func TestFlowKeeperIdleWhileUnregistered(t *testing.T) {
	h := startKeeper(t, 5*time.Second, "")
	h.tick(t, 60)
	if p, _ := h.flows.counts(); p != 0 {
		t.Fatalf("%d pings without a registration", p)
	}
	h.noLoss(t)
}

func TestFlowOf(t *testing.T) {
	for in, want := range map[string]string{
		"sip:alice@127.0.0.1:40000;transport=tcp": "127.0.0.1:40000",
		"sip:alice@[::1]:5090;transport=tls":      "[::1]:5090",
		"sip:alice@example.com":                   "", // no port: not one of our connections
		"":                                        "",
		"not a uri":                               "",
	} {
		if got := flowOf(in); got != want {
			t.Errorf("flowOf(%q) = %q, want %q", in, got, want)
		}
	}
}

type tcpAddr string

func (a tcpAddr) Network() string { return "tcp" }
func (a tcpAddr) String() string  { return string(a) }

func TestFlowTrackerSignalsTheNextReadOnThatConnection(t *testing.T) {
	var f flowTracker
	pong := f.expect("127.0.0.1:40000")
	other := f.expect("127.0.0.1:40001")
	data := []byte("\r\n")
	out, err := f.readFilter(sip.TransportReadProps{Transport: "UDP", LocalAddr: tcpAddr("127.0.0.1:40000")}, data)
	if err != nil || string(out) != "\r\n" {
		t.Fatalf("filter changed the data: %q %v", out, err)
	}
	select {
	case <-pong.done:
		t.Fatal("a UDP read counted as a pong")
	default:
	}
	out, _ = f.readFilter(sip.TransportReadProps{Transport: "TCP", LocalAddr: tcpAddr("127.0.0.1:40000")}, data)
	if string(out) != "\r\n" {
		t.Fatalf("filter changed the data: %q", out)
	}
	select {
	case <-pong.done:
		if !pong.pong {
			t.Fatal("a CRLF was not taken for a pong")
		}
	default:
		t.Fatal("the pong was not seen")
	}
	select {
	case <-other.done:
		t.Fatal("a read on one connection answered another's ping")
	default:
	}
	// Other traffic ends the wait too (the connection is alive), but is no pong.
	msg := []byte("OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n")
	if out, _ := f.readFilter(sip.TransportReadProps{Transport: "TCP", LocalAddr: tcpAddr("127.0.0.1:40001")}, msg); string(out) != string(msg) {
		t.Fatalf("filter changed the data: %q", out)
	}
	select {
	case <-other.done:
		if other.pong {
			t.Fatal("a request was taken for a pong")
		}
	default:
		t.Fatal("the read did not end the wait")
	}
	// A read without a ping waiting, and one without addresses, are passed through.
	if out, _ := f.readFilter(sip.TransportReadProps{Transport: "TLS", LocalAddr: tcpAddr("127.0.0.1:40002")}, data); string(out) != "\r\n" {
		t.Fatal("unexpected data change")
	}
	if out, _ := f.readFilter(sip.TransportReadProps{Transport: "TLS"}, data); string(out) != "\r\n" {
		t.Fatal("unexpected data change")
	}
}

// flowOf reads Contacts that came back from the wire (our own, echoed by the registrar): no
// input may panic, and what it returns is "" or a host:port.
func FuzzFlowOf(f *testing.F) {
	for _, s := range []string{"sip:alice@127.0.0.1:40000;transport=tcp", "sip:alice@[::1]:5090;transport=tls",
		"<sip:a@b:1>", "sip:@:0", "sip:alice@[::1", "sips:x@y:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, contact string) {
		got := flowOf(contact)
		if got == "" {
			return
		}
		if _, port, err := net.SplitHostPort(got); err != nil || port == "0" {
			t.Fatalf("flowOf(%q) = %q, not a host:port", contact, got)
		}
	})
}

func TestLooksLikeSIP(t *testing.T) {
	for in, want := range map[string]bool{
		"INVITE sip:a@b SIP/2.0\r\n": true, "SIP/2.0 200 OK\r\n": true, "\r\n\r\n": true, "\r\nOPTIONS sip:x SIP/2.0": true,
		"\x00\x01\x00\x00\x21\x12\xa4\x42": false, // STUN Binding request
		"\x01\x01\x00\x0c\x21\x12\xa4\x42": false, // STUN Binding success
		"\x80\x00\x00\x01":                 false, // RTP
		"garbage":                          false,
	} {
		if got := looksLikeSIP([]byte(in)); got != want {
			t.Errorf("looksLikeSIP(%q) = %v, want %v", in, got, want)
		}
	}
}

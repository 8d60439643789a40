package phone

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/dialtone/dialtone/audio/audiotest"
)

// impairment is what the proxy does to packets on their way to the callee.
type impairment struct {
	loss          float64       // share of packets dropped, 0..1
	delay, jitter time.Duration // each packet waits delay plus up to jitter
}

// mediaProxy is a STUN server both phones ask, and the media relay its answers set up: each
// media socket that asks (after arm) is told its public address is a socket of its own on
// 127.0.0.2, so both SDPs name the proxy. What reaches a phone's proxy socket goes on to that
// phone from the proxy socket of the other phone's same stream (RTP or RTCP, by port parity),
// so each phone hears its peer from exactly the address in the peer's SDP: symmetric RTP never
// latches around the proxy. The second phone to ask (the callee: the caller asks when it
// dials, the callee when it answers) receives impaired. Until armed it answers with the
// asker's own address (the SIP sockets' start-up queries).
type mediaProxy struct {
	t     *testing.T
	imp   impairment
	conn  *net.UDPConn
	mu    sync.Mutex
	armed bool
	legs  map[netip.AddrPort]*proxyLeg
	rtp   []*proxyLeg // by phone, in order of asking
	rtcp  []*proxyLeg
	wg    sync.WaitGroup
}

type proxyLeg struct {
	conn    *net.UDPConn
	target  netip.AddrPort // the phone's socket
	partner *proxyLeg      // the other phone's leg of the same stream; guarded by mediaProxy.mu
	impair  bool
	queue   chan delayed
}

type delayed struct {
	b   []byte
	due time.Time
}

func startMediaProxy(t *testing.T, imp impairment) *mediaProxy {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &mediaProxy{t: t, imp: imp, conn: c, legs: map[netip.AddrPort]*proxyLeg{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		c.Close()
		s.mu.Lock()
		for _, l := range s.legs {
			l.conn.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *mediaProxy) addr() string { return s.conn.LocalAddr().String() }

func (s *mediaProxy) arm() { s.mu.Lock(); s.armed = true; s.mu.Unlock() }

func (s *mediaProxy) serve() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if req.Decode() != nil {
			continue
		}
		mapped := from
		if l := s.leg(from); l != nil {
			mapped = netip.MustParseAddrPort(l.conn.LocalAddr().String())
		}
		m, err := stun.Build(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}, stun.Fingerprint)
		if err != nil {
			s.t.Error(err)
			return
		}
		s.conn.WriteToUDPAddrPort(m.Raw, from)
	}
}

// leg is the proxy socket for the media socket at from, made on its first query; nil before
// arm.
func (s *mediaProxy) leg(from netip.AddrPort) *proxyLeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.armed {
		return nil
	}
	if l := s.legs[from]; l != nil {
		return l
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		s.t.Errorf("proxy socket on 127.0.0.2: %v", err)
		return nil
	}
	l := &proxyLeg{conn: c, target: from, queue: make(chan delayed, 4096)}
	s.legs[from] = l
	stream := &s.rtp
	if from.Port()%2 == 1 { // RTP is on even ports, RTCP on the next (phone/media)
		stream = &s.rtcp
	}
	*stream = append(*stream, l)
	if len(*stream) == 2 {
		a, b := (*stream)[0], (*stream)[1]
		a.partner, b.partner, b.impair = b, a, true
	}
	rng := rand.New(rand.NewPCG(uint64(len(s.legs)), 13)) // the same losses on every run
	s.wg.Add(2)
	go func() { // read: what the far end sends this phone, into the queue (maybe dropped)
		defer s.wg.Done()
		defer close(l.queue)
		buf := make([]byte, 1500)
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			wait := time.Duration(0)
			if l.impair {
				if rng.Float64() < s.imp.loss {
					continue
				}
				wait = s.imp.delay
				if s.imp.jitter > 0 {
					wait += time.Duration(rng.Int64N(int64(s.imp.jitter)))
				}
			}
			select {
			case l.queue <- delayed{append([]byte(nil), buf[:n]...), time.Now().Add(wait)}:
			default: // a full queue drops, as a router would
			}
		}
	}()
	go func() { // send: each packet when due, in order, from the other phone's proxy socket
		defer s.wg.Done()
		for d := range l.queue {
			time.Sleep(time.Until(d.due))
			s.mu.Lock()
			p := l.partner
			s.mu.Unlock()
			if p != nil {
				p.conn.WriteToUDPAddrPort(d.b, l.target)
			}
		}
	}()
	return l
}

// callThrough places a call of length hold from a fresh caller (sending a tone) to a fresh
// callee through a mediaProxy with imp, and returns the callee's final statistics and its
// call's end.
func callThrough(t *testing.T, imp impairment, hold time.Duration) (MediaStats, CallStatus) {
	t.Helper()
	proxy := startMediaProxy(t, imp)
	_, calleeAddr, calleeEvents := runPhone(t, Config{STUNServer: proxy.addr(), AutoAnswer: true,
		AutoAnswerAudio: func(CallStatus) (CallAudio, error) { return CallAudio{}, nil }})
	caller, _, callerEvents := runPhone(t, Config{STUNServer: proxy.addr()})
	proxy.arm()
	id, err := caller.Dial("", "sip:quality@"+calleeAddr, CallAudio{Source: audiotest.NewTone(440, 0.3)}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitCall(t, callerEvents, id, CallAnswered)
	time.Sleep(hold)
	if err := caller.Hangup(id); err != nil {
		t.Fatal(err)
	}
	var final *MediaStats
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-calleeEvents:
			switch ev := ev.(type) {
			case MediaStats:
				if ev.Final {
					final = &ev
				}
			case CallStatus:
				if ev.State == CallEnded {
					if final == nil {
						t.Fatal("the callee's call ended without final statistics")
					}
					return *final, ev
				}
			}
		case <-deadline:
			t.Fatal("the callee's call never ended")
		}
	}
}

// TestImpairedCallRatesLower: a call whose media cross a path that drops 5 % and delays by
// 60–100 ms gets a lower MOS, live and in its summary, than the same call over a clean path;
// both are the core's own estimates from its statistics.
func TestImpairedCallRatesLower(t *testing.T) {
	const hold = 3 * time.Second
	cleanStats, cleanEnd := callThrough(t, impairment{}, hold)
	badStats, badEnd := callThrough(t, impairment{loss: 0.05, delay: 60 * time.Millisecond, jitter: 40 * time.Millisecond}, hold)
	t.Logf("clean: MOS %.2f R %.1f (%d received, %d lost, jitter %v); summary %+v",
		cleanStats.Stats.MOS, cleanStats.Stats.R, cleanStats.Stats.PacketsReceived, cleanStats.Stats.Lost, cleanStats.Stats.Jitter, cleanEnd.Quality)
	t.Logf("impaired: MOS %.2f R %.1f (%d received, %d lost, jitter %v); summary %+v",
		badStats.Stats.MOS, badStats.Stats.R, badStats.Stats.PacketsReceived, badStats.Stats.Lost, badStats.Stats.Jitter, badEnd.Quality)
	if cleanStats.Stats.PacketsReceived < 100 || badStats.Stats.PacketsReceived < 100 {
		t.Fatalf("too few packets to rate: %d clean, %d impaired", cleanStats.Stats.PacketsReceived, badStats.Stats.PacketsReceived)
	}
	if badStats.Stats.Lost == 0 {
		t.Fatal("the impaired path lost nothing: the media did not go through the relay")
	}
	if cleanStats.Stats.MOS < 4 {
		t.Errorf("clean call MOS %.2f, want at least 4", cleanStats.Stats.MOS)
	}
	if !(badStats.Stats.MOS < cleanStats.Stats.MOS-0.3) {
		t.Errorf("impaired call MOS %.2f, not clearly below the clean call's %.2f", badStats.Stats.MOS, cleanStats.Stats.MOS)
	}
	if cleanEnd.Quality == nil || badEnd.Quality == nil {
		t.Fatalf("no quality summary: clean %v, impaired %v", cleanEnd.Quality, badEnd.Quality)
	}
	if !(badEnd.Quality.MOSAvg < cleanEnd.Quality.MOSAvg) || !(badEnd.Quality.LossPct > cleanEnd.Quality.LossPct) {
		t.Errorf("summaries: impaired %+v, clean %+v", *badEnd.Quality, *cleanEnd.Quality)
	}
	if badEnd.Quality.Codec == "" {
		t.Error("the summary names no codec")
	}
}

package interop

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/netlab"
	"github.com/dialtone/dialtone/interop/peers"
)

// These tests put the real dialtone behind a symmetric NAT (a new random public port for every
// destination, as carrier-grade NATs and many office firewalls do), where neither the private
// address nor any STUN mapping works for the far end: only a relay gets media through. Two
// ways a real user gets one: a provider that runs a media relay (Kamailio + rtpengine), or a
// provider that relays nothing plus a TURN server of the user's own (coturn).
//
//	phone 192.0.2.10 ── lan ── nat (symmetric) 192.0.2.1 | 203.0.113.1 ── wan ──┬─ provider 203.0.113.10 (Kamailio)
//	intruder 192.0.2.66 ─┘                                            203.0.113.11 (coturn) 203.0.113.12 (rtpengine)
//	                                                                              │         203.0.113.13 (a STUN-only coturn)
//	                                                                              └─ far end 203.0.113.20 (baresip)
const (
	phoneIP    = "192.0.2.10"
	intruderIP = "192.0.2.66"
	providerIP = "203.0.113.10"
	turnIP     = "203.0.113.11"
	relayIP    = "203.0.113.12"
	stunIP     = "203.0.113.13"
	farIP      = "203.0.113.20"
	// dialtone's RTP ports in its namespace (--rtp-ports), so a test can aim at them: one per
	// subtest, because coturn keeps a released allocation for about a second and a call from
	// the same ports would wait for it (TestTURNAllocationRightAfterRelease).
	phoneRTPOut, phoneRTPIn, phoneRTPBad, phoneRTPStun = 20000, 20010, 20020, 20030
	phoneSIP                                           = 5060  // in a namespace of its own, nobody else holds it
	turnMinPort                                        = 49160 // coturn's relay ports: a c= port in this range is a relayed one
	turnMaxPort                                        = 49199

	natCallSeconds = 4 // each call's length: long enough for tones, short for the suite
	minHeard       = 2 // seconds of the far end's tone each side must hear
)

// symLab is the topology above; provider pieces are started by the test that needs them.
type symLab struct {
	router                            *netlab.Router
	phone, intruder, provider, farEnd *netlab.Host
}

func newSymLab(t *testing.T) *symLab {
	t.Helper()
	lab := netlab.New(t)
	lan := lab.Segment("lan", "192.0.2.0/24")
	wan := lab.Segment("wan", "203.0.113.0/24")
	r := lab.Router("nat", netlab.RouterOptions{NAT: netlab.Symmetric, UDPTimeout: 30 * time.Second,
		Inside: lan, InsideIP: "192.0.2.1", Outside: wan, OutsideIP: "203.0.113.1"})
	return &symLab{router: r,
		phone:    lab.Host("phone", lan, phoneIP),
		intruder: lab.Host("intruder", lan, intruderIP),
		provider: lab.Host("provider", wan, providerIP, turnIP, relayIP, stunIP),
		farEnd:   lab.Host("far", wan, farIP),
	}
}

// provider is the SIP side of a topology: the registrar and, maybe, a TURN server.
type provider struct {
	k    *peers.Kamailio
	rtp  *peers.RTPEngine // nil: the provider relays nothing
	turn *peers.Coturn    // nil: no TURN server
}

// relayProvider is Kamailio with rtpengine rewriting every SDP, as most providers run.
func (l *symLab) relayProvider(t *testing.T) provider {
	rtp := peers.StartRTPEngine(t, peers.RTPEngineOptions{Host: l.provider, IP: relayIP, LogLevel: 6})
	k := peers.StartKamailio(t, peers.KamailioOptions{Host: l.provider, IP: providerIP, RTPEngine: rtp.NGAddr(), Users: users})
	return provider{k: k, rtp: rtp}
}

// turnProvider is Kamailio that never touches SDP, and a coturn for STUN and TURN.
func (l *symLab) turnProvider(t *testing.T) provider {
	c := peers.StartCoturn(t, peers.CoturnOptions{Host: l.provider, ListenIPs: []string{turnIP},
		MinPort: turnMinPort, MaxPort: turnMaxPort, User: "alice", Password: "turn-secret"})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- coturn log ---\n%s", c.Log())
		}
	})
	k := peers.StartKamailio(t, peers.KamailioOptions{Host: l.provider, IP: providerIP, Users: users})
	return provider{k: k, turn: c}
}

// bob is the public far end, registered at the provider, sending a tone at hz.
func (l *symLab) bob(t *testing.T, p provider, hz float64, autoAnswer bool) *peers.Baresip {
	return peers.StartBaresip(t, peers.BaresipOptions{Host: l.farEnd, IP: farIP, User: "bob", Password: users["bob"],
		Registrar: p.k.HostPort("udp"), AutoAnswer: autoAnswer, ToneHz: hz})
}

// dialtoneArgs are the flags of alice's ad-hoc account at p, with a SIP trace and a debug log
// (shown when the test fails), and TURN when p has a TURN server: its password from
// $DIALTONE_TURN_PASSWORD, or with o.pwFile from --turn-password-file; the STUN server is the
// TURN server unless o.stunServer names another.
func (p provider) dialtoneArgs(t *testing.T, o callOpts) (args, env []string) {
	trace, rtpPort := o.trace, o.rtpPort
	args = []string{"--json", "--aor", "sip:alice@" + providerIP, "--registrar", "sip:" + p.k.HostPort("udp"),
		"--transport", "udp", "--listen", net.JoinHostPort(phoneIP, strconv.Itoa(phoneSIP)),
		"--rtp-ports", strconv.Itoa(rtpPort) + "-" + strconv.Itoa(rtpPort+1), "--sip-trace", trace}
	args = append(args, debugLog(t)...)
	env = pw("alice")
	if p.turn != nil {
		stunServer := cmp.Or(o.stunServer, p.turn.Addr(0))
		args = append(args, "--stun-server", stunServer, "--turn-server", p.turn.Addr(0), "--turn-user", p.turn.User())
		if !o.pwFile {
			return args, append(env, "DIALTONE_TURN_PASSWORD="+p.turn.Password())
		}
		f := filepath.Join(t.TempDir(), "turn-password")
		if err := os.WriteFile(f, []byte(p.turn.Password()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--turn-password-file", f)
	}
	return args, env
}

// sdpSent returns the c= address and m=audio port of the SDP dialtone sent (the INVITE or the
// 200 that carries its offer or answer), from its --sip-trace file.
func sdpSent(t *testing.T, trace string) (string, int) {
	t.Helper()
	return sdpIn(t, trace, "send")
}

// sdpIn returns the c= address and m=audio port of the first SDP in the trace that went
// dir ("send" or "recv").
func sdpIn(t *testing.T, trace, dir string) (string, int) {
	t.Helper()
	for _, msg := range strings.Split(readFile(t, trace), "\n=== ") {
		first, body, _ := strings.Cut(msg, "\n")
		if !strings.Contains(first, " "+dir+" ") || !strings.Contains(body, "m=audio ") {
			continue
		}
		ip, port := "", 0
		for _, line := range strings.Split(body, "\n") {
			line = strings.TrimSpace(line)
			if s, ok := strings.CutPrefix(line, "c=IN IP4 "); ok {
				ip = s
			}
			if s, ok := strings.CutPrefix(line, "m=audio "); ok {
				port, _ = strconv.Atoi(strings.Fields(s)[0])
			}
		}
		return ip, port
	}
	t.Fatalf("no SDP %s in the trace:\n%s", dir, readFile(t, trace))
	return "", 0
}

// heard checks both directions as audio: dialtone's recording holds bob's tone, and bob's
// recording of the call holds dialtone's.
func heard(t *testing.T, rec string, bob *peers.Baresip, bobHz, aliceHz float64) {
	t.Helper()
	if s := toneSeconds(t, rec, bobHz); s < minHeard {
		t.Errorf("dialtone heard bob's %.0f Hz for %.2f s, want >= %d s", bobHz, s, minHeard)
	}
	if s := toneSeconds(t, lastRecording(t, bob), aliceHz); s < minHeard {
		t.Errorf("bob heard dialtone's %.0f Hz for %.2f s, want >= %d s\n%s", aliceHz, s, minHeard, bob.Log())
	}
}

// callOpts vary one call of natCallOut or natCallIn.
type callOpts struct {
	rtpPort    int           // dialtone's RTP port (RTCP on the next)
	pwFile     bool          // the TURN password from --turn-password-file, not the environment
	stunServer string        // --stun-server when not the TURN server
	trace      string        // the --sip-trace file ("" makes one)
	during     func(a event) // runs once the call is answered, while it lasts
}

// callResult is what a call left behind: dialtone's events after the answer, its SIP trace
// and its recording of bob.
type callResult struct {
	evs        []event
	trace, rec string
}

func (o *callOpts) start(t *testing.T, l *symLab, p provider, cmd []string) (*proc, callResult) {
	t.Helper()
	if o.trace == "" {
		o.trace = filepath.Join(t.TempDir(), "sip.trace")
	}
	res := callResult{trace: o.trace, rec: filepath.Join(t.TempDir(), "from-bob.wav")}
	args, env := p.dialtoneArgs(t, *o)
	alice := startDialtoneOn(t, l.phone, env, append(append(cmd, "--record", res.rec), args...)...)
	return alice, res
}

// natCallOut: dialtone behind the symmetric NAT calls bob and hangs up after natCallSeconds.
func natCallOut(t *testing.T, l *symLab, p provider, bob *peers.Baresip, aliceHz, bobHz float64, o callOpts) callResult {
	t.Helper()
	alice, res := o.start(t, l, p, []string{"call", bob.AOR(), "--play", makeTone(t, aliceHz, 20, 8000),
		"--duration", strconv.Itoa(natCallSeconds) + "s"})
	a := alice.waitEvent("answered", 20*time.Second)
	if o.during != nil {
		o.during(a)
	}
	code, evs := alice.wait(30 * time.Second)
	if code != 0 {
		t.Fatalf("call exit %d\n%s\nbaresip:\n%s", code, alice.transcript(), bob.Log())
	}
	if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatalf("baresip saw no hangup: %v", err)
	}
	heard(t, res.rec, bob, bobHz, aliceHz)
	if w, ok := findEvent(evs, "media_warning"); ok {
		t.Errorf("media warning although audio flows: %v", w)
	}
	res.evs = evs
	logStats(t, evs)
	return res
}

// natCallIn: bob calls dialtone (answer --auto) behind the symmetric NAT and hangs up after
// natCallSeconds.
func natCallIn(t *testing.T, l *symLab, p provider, bob *peers.Baresip, aliceHz, bobHz float64, o callOpts) callResult {
	t.Helper()
	alice, res := o.start(t, l, p, []string{"answer", "--auto", "--count", "1", "--play", makeTone(t, aliceHz, 20, 8000)})
	alice.waitEvent("registered", 20*time.Second)
	if err := bob.Dial("sip:alice@" + providerIP); err != nil {
		t.Fatal(err)
	}
	a := alice.waitEvent("answered", 20*time.Second)
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatalf("baresip: %v\n%s", err, bob.Log())
	}
	if o.during != nil {
		o.during(a)
	}
	time.Sleep(natCallSeconds * time.Second) // the call itself: audio flows meanwhile
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	code, evs := alice.wait(20 * time.Second)
	if code != 0 {
		t.Fatalf("answer exit %d\n%s\nbaresip:\n%s", code, alice.transcript(), bob.Log())
	}
	heard(t, res.rec, bob, bobHz, aliceHz)
	if w, ok := findEvent(evs, "media_warning"); ok {
		t.Errorf("media warning although audio flows: %v", w)
	}
	res.evs = evs
	logStats(t, evs)
	return res
}

// logStats logs the call's final media statistics.
func logStats(t *testing.T, evs []event) {
	t.Helper()
	for _, e := range evs {
		if e.name() == "stats" && e["final"] == true {
			t.Logf("final stats: sent %v received %v lost %v dropped %v jitter %.1f ms rtt %.1f ms",
				e.num("packets_sent"), e.num("packets_received"), e.num("lost"), e.num("dropped"), e.num("jitter_ms"), e.num("rtt_ms"))
		}
	}
}

// checkRelayed asserts that rtpengine relayed the call's RTP both ways (every RTP stream of
// the call received packets) while it was up.
func checkRelayed(t *testing.T, p provider, a event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	callID := a.str("sip_call_id")
	eventually(t, 5*time.Second, "rtpengine relays both ways", func() (bool, string) {
		q, err := p.rtp.Query(ctx, callID)
		if err != nil {
			return false, err.Error()
		}
		n := 0
		for _, s := range q.Streams {
			if !s.RTCP && s.Packets >= 25 {
				n++
			}
		}
		return n >= 2, "streams: " + fmtStreams(q)
	})
}

func fmtStreams(q peers.RTPEngineCall) string {
	var b strings.Builder
	for _, s := range q.Streams {
		b.WriteString(s.Tag + " " + s.Local + "<-" + s.Endpoint + " rtcp=" + strconv.FormatBool(s.RTCP) + " packets=" + strconv.FormatInt(s.Packets, 10) + "; ")
	}
	return b.String()
}

// TestSymmetricNATProviderRelay: the provider's rtpengine relays the media of dialtone behind a
// symmetric NAT, calling out and called; the SDP bob gets is the relay's, and tones cross both
// ways.
func TestSymmetricNATProviderRelay(t *testing.T) {
	t.Parallel()
	start := time.Now()
	l := newSymLab(t)
	p := l.relayProvider(t)
	t.Run("outgoing", func(t *testing.T) {
		bob := l.bob(t, p, 700, true)
		natCallOut(t, l, p, bob, 1300, 700, callOpts{rtpPort: phoneRTPOut, during: func(a event) { checkRelayed(t, p, a) }})
		if !strings.Contains(bob.Log(), "c=IN IP4 "+relayIP) {
			t.Errorf("bob's offer does not point at rtpengine %s:\n%s", relayIP, bob.Log())
		}
	})
	t.Run("incoming", func(t *testing.T) {
		bob := l.bob(t, p, 600, false)
		res := natCallIn(t, l, p, bob, 1100, 600, callOpts{rtpPort: phoneRTPIn, during: func(a event) { checkRelayed(t, p, a) }})
		if sip := readFile(t, res.trace); !strings.Contains(sip, "c=IN IP4 "+relayIP) {
			t.Errorf("the offer dialtone got does not point at rtpengine:\n%s", sip)
		}
	})
	t.Run("injection", func(t *testing.T) {
		bob := l.bob(t, p, 700, true)
		o := callOpts{rtpPort: phoneRTPBad, trace: filepath.Join(t.TempDir(), "sip.trace")}
		sent := 0
		o.during = func(event) {
			time.Sleep(500 * time.Millisecond) // latched on to the relay by now
			sent = l.intrude(t, o.rtpPort, farMedia(t, o.trace))
		}
		checkRefused(t, natCallOut(t, l, p, bob, 1300, 700, o), sent)
	})
	t.Logf("wall time %v", time.Since(start).Round(10*time.Millisecond))
}

// TestSymmetricNATTURNRelay: the provider relays nothing and dialtone behind a symmetric NAT
// has a TURN server: it finds the NAT symmetric, allocates a relay, puts the relayed address
// in its SDP (calling out and called), and tones cross both ways through coturn.
func TestSymmetricNATTURNRelay(t *testing.T) {
	t.Parallel()
	start := time.Now()
	l := newSymLab(t)
	p := l.turnProvider(t)
	checkTURN := func(t *testing.T, trace string) {
		t.Helper()
		ip, port := sdpSent(t, trace)
		if ip != turnIP || port < turnMinPort || port > turnMaxPort {
			t.Errorf("dialtone's SDP has %s:%d, want coturn's relay %s:%d-%d\n%s", ip, port, turnIP, turnMinPort, turnMaxPort, readFile(t, trace))
		}
	}
	t.Run("outgoing", func(t *testing.T) {
		bob := l.bob(t, p, 700, true)
		checkTURN(t, natCallOut(t, l, p, bob, 1300, 700, callOpts{rtpPort: phoneRTPOut}).trace)
	})
	t.Run("incoming", func(t *testing.T) {
		bob := l.bob(t, p, 600, false)
		checkTURN(t, natCallIn(t, l, p, bob, 1100, 600, callOpts{rtpPort: phoneRTPIn, pwFile: true}).trace)
	})
	t.Run("injection", func(t *testing.T) {
		bob := l.bob(t, p, 700, true)
		o := callOpts{rtpPort: phoneRTPBad, trace: filepath.Join(t.TempDir(), "sip.trace")}
		stopSpray := l.spraySTUN(t, netip.MustParseAddrPort(p.turn.Addr(0)), phoneSIP, phoneRTPBad, phoneRTPBad+1)
		defer stopSpray()
		sent := 0
		o.during = func(event) {
			t.Logf("%d spoofed STUN answers from the STUN server's address during the set-up", stopSpray())
			time.Sleep(500 * time.Millisecond)
			sent = l.intrude(t, o.rtpPort, farMedia(t, o.trace))
		}
		res := natCallOut(t, l, p, bob, 1300, 700, o)
		checkTURN(t, res.trace)
		if sip := readFile(t, res.trace); strings.Contains(sip, strings.Split(spoofedMapped, ":")[0]) {
			t.Errorf("a spoofed STUN answer's address reached dialtone's SIP:\n%s", sip)
		}
		checkRefused(t, res, sent)
	})
	// A STUN server of its own (as with a public STUN service beside one's TURN server): the
	// RTP socket's two mappings differ, which is how the symmetric NAT is found this time.
	t.Run("separate-stun", func(t *testing.T) {
		stun := peers.StartCoturn(t, peers.CoturnOptions{Host: l.provider, ListenIPs: []string{stunIP}})
		bob := l.bob(t, p, 700, true)
		checkTURN(t, natCallOut(t, l, p, bob, 1300, 700, callOpts{rtpPort: phoneRTPStun, stunServer: stun.Addr(0)}).trace)
	})
	t.Logf("wall time %v", time.Since(start).Round(10*time.Millisecond))
}

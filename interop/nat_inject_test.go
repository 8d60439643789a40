package interop

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/interop/peers"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/pion/rtp"
	"github.com/pion/stun/v3"
	"golang.org/x/sys/unix"
)

// Bad input at the RTP port: what an attacker who can reach dialtone's media socket sends.
// Every datagram is built here by hand, so each one is exactly the attack it names.

// injectHz is the tone an intruder tries to make us play; no far end in these tests uses it.
const injectHz = 2500

// toneRTP is a PCMU RTP stream of a tone: packet i of SSRC ssrc, starting at seq0.
type toneRTP struct {
	ssrc uint32
	seq0 uint16
	tone *audiotest.Tone
}

func newToneRTP(hz float64) *toneRTP {
	var b [6]byte
	rand.Read(b[:])
	return &toneRTP{ssrc: binary.BigEndian.Uint32(b[:4]), seq0: binary.BigEndian.Uint16(b[4:]), tone: audiotest.NewTone(hz, 0.5)}
}

func (s *toneRTP) packet(t *testing.T, i int) []byte {
	t.Helper()
	pcm := make([]int16, codec.FrameSamples)
	if err := s.tone.Read(pcm); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, codec.PCMU.EncodedLen(len(pcm)))
	codec.PCMU.EncodeTo(payload, pcm)
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: s.seq0 + uint16(i),
		Timestamp: uint32(i * codec.FrameSamples), SSRC: s.ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stunGarbage is a STUN header (a Binding success, the magic cookie) over random bytes
// whose attribute lengths point anywhere.
func stunGarbage() []byte {
	b := make([]byte, 20+64)
	rand.Read(b)
	binary.BigEndian.PutUint16(b[0:], 0x0101)
	binary.BigEndian.PutUint16(b[2:], 64)
	binary.BigEndian.PutUint32(b[4:], 0x2112A442) // the magic cookie
	return b
}

// spoofedBinding is a well-formed Binding success answering no request of ours (a random
// transaction id) and claiming that we are seen at mapped.
func spoofedBinding(t *testing.T, mapped netip.AddrPort) []byte {
	t.Helper()
	m, err := stun.Build(stun.TransactionID, stun.BindingSuccess,
		&stun.XORMappedAddress{IP: mapped.Addr().AsSlice(), Port: int(mapped.Port())}, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	return m.Raw
}

// dataIndication is a TURN Data indication (RFC 8656 11.4) that claims to relay data from
// peer: what only the TURN server may send us.
func dataIndication(t *testing.T, peer netip.AddrPort, data []byte) []byte {
	t.Helper()
	m, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodData, stun.ClassIndication))
	if err == nil {
		xor := stun.XORMappedAddress{IP: peer.Addr().AsSlice(), Port: int(peer.Port())}
		err = xor.AddToAs(m, stun.AttrXORPeerAddress)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Add(stun.AttrData, data)
	return m.Raw
}

// channelData wraps data for TURN channel number (0x4000 is the first a client binds).
func channelData(number uint16, data []byte) []byte {
	b := make([]byte, 4, 4+len(data)+3)
	binary.BigEndian.PutUint16(b[0:], number)
	binary.BigEndian.PutUint16(b[2:], uint16(len(data)))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rawUDP sends UDP datagrams with any source address (a raw IPPROTO_RAW socket, whose
// packets carry their own IP header), to spoof a server.
type rawUDP struct{ fd int }

// listenRaw opens a raw socket inside the network namespace ns (a netlab host's NS()). The
// socket is made on a locked thread that enters ns and leaves it again: a socket keeps the
// namespace it was made in.
func listenRaw(t *testing.T, ns string) *rawUDP {
	t.Helper()
	type result struct {
		fd  int
		err error
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res <- result{-1, err}
			return
		}
		defer unix.Close(self)
		target, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			res <- result{-1, err}
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			res <- result{-1, err}
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if unix.Setns(self, unix.CLONE_NEWNET) != nil {
			// Stay locked: this goroutine ends and takes the thread, still in ns, with it.
			res <- result{fd, err}
			return
		}
		runtime.UnlockOSThread()
		res <- result{fd, err}
	}()
	r := <-res
	if r.err != nil {
		t.Fatalf("raw socket in %s: %v", ns, r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return &rawUDP{fd: r.fd}
}

// send writes one datagram from src to dst (the kernel fills in the IP checksum, length and
// id; a zero UDP checksum means none, which IPv4 allows).
func (r *rawUDP) send(src, dst netip.AddrPort, payload []byte) error {
	b := make([]byte, 28+len(payload))
	b[0], b[8], b[9] = 0x45, 64, unix.IPPROTO_UDP
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	binary.BigEndian.PutUint16(b[20:], src.Port())
	binary.BigEndian.PutUint16(b[22:], dst.Port())
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	copy(b[28:], payload)
	return unix.Sendto(r.fd, b, 0, &unix.SockaddrInet4{Addr: d4})
}

// TestTURNRelayRefusesStrangers: a media session relayed through coturn hears its far end
// through the relay, and nothing that a stranger sends straight to its socket: RTP, STUN
// garbage, a spoofed Binding answer, and (the one pion would take at face value) Data
// indications and ChannelData that name the far end as their peer and carry the far end's
// own SSRC after the far end fell silent. Every one of them is counted as dropped.
func TestTURNRelayRefusesStrangers(t *testing.T) {
	t.Parallel()
	turnSrv := peers.StartCoturn(t, peers.CoturnOptions{})
	server := netip.MustParseAddrPort(turnSrv.Addr(0))
	lo := netip.MustParseAddr("127.0.0.1")
	a, err := media.Open(media.Config{IP: lo})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	relayRTP, _, err := a.UseRelay(ctx, media.Relay{Server: server, User: turnSrv.User(), Password: turnSrv.Password()})
	if err != nil {
		t.Fatalf("TURN allocation: %v\n%s", err, turnSrv.Log())
	}
	far, intruder := listenUDP4(t), listenUDP4(t)
	farAddr := far.LocalAddr().(*net.UDPAddr).AddrPort()
	rec := audiotest.NewRecorder()
	// a sends first (silence), which gives coturn the permission for the far end.
	a.Start(media.Params{Remote: farAddr, Codec: codec.PCMU, DTMFPT: -1, Send: true, Receive: true,
		Source: audiotest.NewTone(0, 0), Sink: rec})
	time.Sleep(200 * time.Millisecond)

	stream := newToneRTP(1000)
	const farPackets = 50 // 1 s
	for i := range farPackets {
		if _, err := far.WriteToUDPAddrPort(stream.packet(t, i), relayRTP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The far end falls silent; the intruder continues its stream (same SSRC, the next
	// sequence numbers and timestamps) with another tone, in every wrapping.
	before := a.Stats()
	evil := &toneRTP{ssrc: stream.ssrc, seq0: stream.seq0, tone: audiotest.NewTone(injectHz, 0.5)}
	local := a.LocalAddr()
	sent := 0
	for i := farPackets; i < farPackets+75; i++ {
		pkt := evil.packet(t, i)
		var msg []byte
		switch i % 5 {
		case 0:
			msg = pkt
		case 1:
			msg = dataIndication(t, farAddr, pkt)
		case 2:
			msg = channelData(0x4000, pkt)
		case 3:
			msg = stunGarbage()
		case 4:
			msg = spoofedBinding(t, netip.MustParseAddrPort("198.51.100.66:4444"))
		}
		if _, err := intruder.WriteToUDPAddrPort(msg, local); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	after := a.Stats()
	if got := after.PacketsReceived - before.PacketsReceived; got != 0 {
		t.Errorf("%d of the intruder's %d datagrams were received as RTP", got, sent)
	}
	if got := after.Dropped - before.Dropped; got < uint64(sent) {
		t.Errorf("dropped %d, want at least the intruder's %d", got, sent)
	}
	s := rec.Samples()
	if secs := blockSeconds(s, 8000, 1000); secs < 0.5 {
		t.Errorf("the far end's 1000 Hz through the relay was heard for %.2f s of its 1 s", secs)
	}
	if secs := blockSeconds(s, 8000, injectHz); secs > 0 {
		t.Errorf("the intruder's %d Hz was played for %.2f s", injectHz, secs)
	}
	t.Logf("far end: %d packets; intruder: %d datagrams, all dropped; stats %+v", farPackets, sent, after)
}

func listenUDP4(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// blockSeconds is toneSeconds for samples in memory: how long (in 50 ms blocks) they hold a
// tone at hz.
func blockSeconds(samples []int16, rate int, hz float64) float64 {
	block, n := rate/20, 0
	for i := 0; i+block <= len(samples); i += block {
		if found, _, _ := audiotest.DetectTone(samples[i:i+block], rate, hz); found {
			n++
		}
	}
	return float64(n*block) / float64(rate)
}

// spoofedMapped is the public address spoofed STUN answers claim for us; finding it anywhere
// in dialtone's SIP would mean one was believed.
const spoofedMapped = "198.51.100.66:4444"

// intrude sends from the intruder on dialtone's LAN, at its RTP port, for about 2 s: RTP of
// another tone from a third address, STUN garbage, spoofed Binding answers, and Data
// indications and ChannelData naming far (the far end's media address in dialtone's SDP) as
// their peer. It returns how many datagrams it sent.
func (l *symLab) intrude(t *testing.T, rtpPort int, far netip.AddrPort) int {
	t.Helper()
	pc, err := l.intruder.ListenPacket("udp4", intruderIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	conn := pc.(*net.UDPConn)
	dst := netip.AddrPortFrom(netip.MustParseAddr(phoneIP), uint16(rtpPort))
	evil := newToneRTP(injectHz)
	sent := 0
	for i := range 100 {
		pkt := evil.packet(t, i)
		msg := pkt
		switch i % 5 {
		case 1:
			msg = dataIndication(t, far, pkt)
		case 2:
			msg = channelData(0x4000, pkt)
		case 3:
			msg = stunGarbage()
		case 4:
			msg = spoofedBinding(t, netip.MustParseAddrPort(spoofedMapped))
		}
		if _, err := conn.WriteToUDPAddrPort(msg, dst); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(20 * time.Millisecond)
	}
	return sent
}

// spraySTUN sends spoofed Binding answers that seem to come from the STUN server (their
// source address forged on a raw socket; their transaction ids answer nothing) to every one
// of dialtone's ports, every 2 ms until the returned stop is called; stop returns how many
// it sent. Started before dialtone, it races every STUN transaction of the call's set-up.
func (l *symLab) spraySTUN(t *testing.T, server netip.AddrPort, ports ...int) (stop func() int) {
	t.Helper()
	raw := listenRaw(t, l.intruder.NS())
	mapped := netip.MustParseAddrPort(spoofedMapped)
	quit, done := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range ports {
				dst := netip.AddrPortFrom(netip.MustParseAddr(phoneIP), uint16(p))
				if raw.send(server, dst, spoofedBinding(t, mapped)) == nil {
					n++
				}
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	var sent *int
	return func() int {
		if sent == nil {
			close(quit)
			n := <-done
			sent = &n
		}
		return *sent
	}
}

// checkRefused asserts that what intrude sent left no trace: not a moment of its tone in
// dialtone's recording, and every datagram counted in the call's final stats as dropped.
func checkRefused(t *testing.T, res callResult, sent int) {
	t.Helper()
	if s := toneSeconds(t, res.rec, injectHz); s > 0 {
		t.Errorf("the intruder's %d Hz was played for %.2f s", injectHz, s)
	}
	var final event
	for _, e := range res.evs {
		if e.name() == "stats" && e["final"] == true {
			final = e
		}
	}
	if final == nil {
		t.Fatalf("no final stats event: %v", names(res.evs))
	}
	if d := final.num("dropped"); d < float64(sent) {
		t.Errorf("final stats dropped %v, want at least the intruder's %d datagrams: %v", d, sent, final)
	}
	t.Logf("intruder sent %d datagrams; final stats: dropped %v, received %v", sent, final.num("dropped"), final.num("packets_received"))
}

// farMedia is the far end's media address in the SDP dialtone received.
func farMedia(t *testing.T, trace string) netip.AddrPort {
	t.Helper()
	ip, port := sdpIn(t, trace, "recv")
	return netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(port))
}

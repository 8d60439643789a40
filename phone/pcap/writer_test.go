package pcap

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	alice  = netip.MustParseAddrPort("192.0.2.10:5060")
	bob    = netip.MustParseAddrPort("198.51.100.20:5080")
	alice6 = netip.MustParseAddrPort("[2001:db8::10]:5060")
	bob6   = netip.MustParseAddrPort("[2001:db8::20]:5080")
)

const invite = "INVITE sip:bob@198.51.100.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n" +
	"Call-ID: abc@192.0.2.10\r\nCSeq: 1 INVITE\r\nContent-Length: 4\r\n\r\nv=0\n"

const ringing = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\n" +
	"Call-ID: abc@192.0.2.10\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

// checkPacket verifies an IP packet's lengths and checksums the way a receiver would.
func checkPacket(t *testing.T, pkt []byte, wantProto uint8, payload []byte) {
	t.Helper()
	var pseudo uint32
	var l4 []byte
	switch pkt[0] >> 4 {
	case 4:
		if got := binary.BigEndian.Uint16(pkt[2:]); int(got) != len(pkt) {
			t.Errorf("IPv4 total length %d, packet %d", got, len(pkt))
		}
		if s := fold(onesSum(pkt[:20])); s != 0xFFFF {
			t.Errorf("IPv4 header checksum does not verify: sum %#x", s)
		}
		if pkt[9] != wantProto {
			t.Errorf("protocol %d, want %d", pkt[9], wantProto)
		}
		l4 = pkt[20:]
		pseudo = onesSum(pkt[12:20]) + uint32(wantProto) + uint32(len(l4))
	case 6:
		if got := binary.BigEndian.Uint16(pkt[4:]); int(got) != len(pkt)-40 {
			t.Errorf("IPv6 payload length %d, want %d", got, len(pkt)-40)
		}
		l4 = pkt[40:]
		pseudo = onesSum(pkt[8:40]) + uint32(wantProto) + uint32(len(l4))
	default:
		t.Fatalf("IP version %d", pkt[0]>>4)
	}
	if s := fold(pseudo + onesSum(l4)); s != 0xFFFF {
		t.Errorf("transport checksum does not verify: sum %#x", s)
	}
	hl := 8
	if wantProto == protoUDP {
		if got := binary.BigEndian.Uint16(l4[4:]); int(got) != len(l4) {
			t.Errorf("UDP length %d, want %d", got, len(l4))
		}
	} else {
		hl = int(l4[12]>>4) * 4
	}
	if !bytes.Equal(l4[hl:], payload) {
		t.Errorf("payload %q, want %q", l4[hl:], payload)
	}
}

func TestBuildPacketChecksums(t *testing.T) {
	odd := []byte("odd length payload!") // 19 bytes: the padding byte of the checksum
	for _, tc := range []struct {
		name     string
		src, dst netip.AddrPort
		proto    uint8
	}{
		{"udp4", alice, bob, protoUDP}, {"tcp4", alice, bob, protoTCP},
		{"udp6", alice6, bob6, protoUDP}, {"tcp6", alice6, bob6, protoTCP},
		{"mixed", alice, bob6, protoUDP}, // an IPv4 address beside an IPv6 one: IPv4-mapped
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range [][]byte{nil, odd, []byte(invite), bytes.Repeat([]byte{0xFF}, 1400)} {
				buf := make([]byte, headerLen(tc.src, tc.dst, tc.proto)+len(p))
				pkt := buildPacket(buf, tc.proto, tc.src, tc.dst, segment{seq: 7, ack: 9}, p)
				if len(pkt) != len(buf) {
					t.Fatalf("packet of %d bytes, headerLen says %d", len(pkt), len(buf))
				}
				checkPacket(t, pkt, tc.proto, p)
				d, ok := Decode(Packet{LinkType: LinkTypeRaw, Data: pkt})
				if !ok || d.Src != tc.src || d.Dst != tc.dst || d.TCP != (tc.proto == protoTCP) || !bytes.Equal(d.Payload, p) {
					t.Errorf("decoded %+v ok=%v", d, ok)
				}
			}
		})
	}
}

func TestUDPChecksumNeverZero(t *testing.T) {
	// Search for a payload whose checksum computes to 0: it must go out as 0xFFFF.
	buf := make([]byte, 64)
	for i := range 1 << 16 {
		p := []byte{byte(i >> 8), byte(i)}
		pkt := buildPacket(buf, protoUDP, alice, bob, segment{}, p)
		if c := binary.BigEndian.Uint16(pkt[26:]); c == 0 {
			t.Fatalf("payload %x: UDP checksum 0 (means none)", p)
		} else if c == 0xFFFF {
			checkPacket(t, pkt, protoUDP, p)
			return
		}
	}
	t.Fatal("no payload gave the all-ones checksum: the search is wrong")
}

// roundTrip writes with w's helpers and reads everything back.
func readAll(t *testing.T, b []byte) []Packet {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []Packet
	for range 10000 {
		p, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
	t.Fatal("too many packets")
	return nil
}

func TestRoundTrip(t *testing.T) {
	var file bytes.Buffer
	clock := time.Date(2026, 12, 6, 0, 0, 0, 123456789, time.UTC)
	w, err := NewWriter(&file, Options{Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSIP("UDP", true, alice, bob, []byte(invite)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSIP("UDP", false, bob, alice, []byte(ringing)); err != nil {
		t.Fatal(err)
	}
	// Over TCP: a read may carry two messages, or half of one.
	tcp := invite + ringing
	if err := w.WriteSIP("TLS", true, alice6, bob6, []byte(tcp[:50])); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSIP("TLS", true, alice6, bob6, []byte(tcp[50:])); err != nil {
		t.Fatal(err)
	}
	rtp := []byte{0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3}
	if !w.WriteMedia(alice, bob, rtp, true) {
		t.Fatal("media packet dropped by an idle writer")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.WriteMedia(alice, bob, rtp, false) {
		t.Error("a closed writer took a packet")
	}
	st := w.Stats()
	if st.Packets != 5 || st.Dropped != 0 || st.Capped != 0 || st.Bytes != int64(file.Len()) {
		t.Errorf("stats %+v, file %d bytes", st, file.Len())
	}

	pkts := readAll(t, file.Bytes())
	if len(pkts) != 5 {
		t.Fatalf("%d packets read, want 5", len(pkts))
	}
	for i, p := range pkts {
		if want := time.Date(2026, 12, 6, 0, 0, 0, 123456789, time.UTC).Add(time.Duration(i+1) * time.Millisecond); !p.Time.Equal(want) {
			t.Errorf("packet %d at %v, want %v (nanosecond timestamps)", i, p.Time, want)
		}
	}
	// The TCP segments follow each other in sequence.
	s1, s2 := pkts[2].Data[40:], pkts[3].Data[40:]
	if seq1, seq2 := binary.BigEndian.Uint32(s1[4:]), binary.BigEndian.Uint32(s2[4:]); seq2 != seq1+50 {
		t.Errorf("TCP sequence %d then %d, want +50", seq1, seq2)
	}
	checkPacket(t, pkts[3].Data, protoTCP, []byte(tcp[50:]))
	d, ok := Decode(pkts[4])
	if !ok || !bytes.Equal(d.Payload, rtp) || d.Comment != DecryptedComment {
		t.Errorf("media packet read back as %+v", d)
	}

	var msgs []SIPMessage
	if err := ReadSIP(bytes.NewReader(file.Bytes()), func(m SIPMessage) error { msgs = append(msgs, m); return nil }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Transport+" "+m.Summary()+" "+m.CallID+" "+m.Method+" "+m.Src.String())
		if !m.Sent && !m.Received {
			t.Errorf("%v: direction lost", m)
		}
	}
	want := []string{
		"UDP INVITE abc@192.0.2.10 INVITE 192.0.2.10:5060", "UDP 180 Ringing abc@192.0.2.10 INVITE 198.51.100.20:5080",
		"TCP INVITE abc@192.0.2.10 INVITE [2001:db8::10]:5060", "TCP 180 Ringing abc@192.0.2.10 INVITE [2001:db8::10]:5060",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SIP read back:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !msgs[0].Sent || !msgs[1].Received || string(msgs[0].Text) != invite {
		t.Errorf("first two: %+v %+v", msgs[0], msgs[1])
	}
}

// gate is a writer that blocks until opened: a disk that stalls.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gate) Write(b []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(b)
}

func TestWriteMediaNeverBlocks(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	close(g.open) // the header goes through
	w, err := NewWriter(g, Options{QueueLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	g.open = make(chan struct{}) // from now on the disk stalls (only the drain goroutine writes)
	rtp := make([]byte, 172)
	done := make(chan int)
	go func() {
		taken := 0
		for range 1000 {
			if w.WriteMedia(alice, bob, rtp, false) {
				taken++
			}
		}
		done <- taken
	}()
	var taken int
	select {
	case taken = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WriteMedia blocked behind a stalled disk")
	}
	st := w.Stats()
	// What was written before the first flush stalled, 4 slots queued, and at most one the drain
	// goroutine holds while its write waits.
	if taken < 4 || taken > int(st.Packets)+5 || st.Dropped != uint64(1000-taken) {
		t.Errorf("took %d of 1000, stats %+v", taken, st)
	}
	close(g.open)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, g.buf.Bytes())); n != taken {
		t.Errorf("%d packets in the file, %d taken", n, taken)
	}
}

func TestWriteMediaAllocs(t *testing.T) {
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rtp := make([]byte, 172)
	if n := testing.AllocsPerRun(1000, func() { w.WriteMedia(alice, bob, rtp, true) }); n != 0 {
		t.Errorf("WriteMedia allocates %.1f times per packet", n)
	}
}

func TestSizeCap(t *testing.T) {
	var file bytes.Buffer
	w, err := NewWriter(&file, Options{MaxBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		w.WriteSIP("UDP", true, alice, bob, []byte(invite))
	}
	w.Close()
	st := w.Stats()
	if file.Len() > 1024 || st.Capped == 0 || st.Packets == 0 || st.Packets+st.Capped != 10 || !w.Full() {
		t.Errorf("file %d bytes, stats %+v", file.Len(), st)
	}
	if n := len(readAll(t, file.Bytes())); uint64(n) != st.Packets {
		t.Errorf("%d packets read, %d written", n, st.Packets)
	}
}

func TestLongMediaCut(t *testing.T) {
	var file bytes.Buffer
	w, _ := NewWriter(&file, Options{})
	long := bytes.Repeat([]byte{0x80}, MaxMediaLen+100)
	w.WriteMedia(alice, bob, long, false)
	w.Close()
	pkts := readAll(t, file.Bytes())
	if len(pkts) != 1 || len(pkts[0].Data) != 28+MaxMediaLen || pkts[0].OrigLen != 28+len(long) {
		t.Fatalf("%d packets, first %d of %d bytes", len(pkts), len(pkts[0].Data), pkts[0].OrigLen)
	}
	if tl := binary.BigEndian.Uint16(pkts[0].Data[2:]); int(tl) != 28+len(long) {
		t.Errorf("IPv4 total length %d, want the real %d", tl, 28+len(long))
	}
}

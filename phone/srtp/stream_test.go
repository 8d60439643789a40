package srtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// pair returns two streams with swapped keys: what a protects, b unprotects, and back.
func pair(t testing.TB, su Suite) (a, b *Stream) {
	t.Helper()
	ka, err := NewCrypto(1, su)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := NewCrypto(1, su)
	if err != nil {
		t.Fatal(err)
	}
	if a, err = NewStream(Keys{Local: ka, Remote: kb}); err != nil {
		t.Fatal(err)
	}
	if b, err = NewStream(Keys{Local: kb, Remote: ka}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// rtpPacket writes a 12-byte RTP header and payloadLen bytes of payload into buf.
func rtpPacket(buf []byte, seq uint16, ts, ssrc uint32, payloadLen int) []byte {
	buf[0], buf[1] = 0x80, 0
	binary.BigEndian.PutUint16(buf[2:], seq)
	binary.BigEndian.PutUint32(buf[4:], ts)
	binary.BigEndian.PutUint32(buf[8:], ssrc)
	for i := range payloadLen {
		buf[12+i] = byte(int(seq) + i)
	}
	return buf[:12+payloadLen]
}

// rtcpRR writes a receiver report with one block for ssrc into buf.
func rtcpRR(buf []byte, ssrc uint32) []byte {
	b := buf[:32]
	clear(b)
	b[0], b[1] = 0x81, 201
	binary.BigEndian.PutUint16(b[2:], 7)
	binary.BigEndian.PutUint32(b[4:], ssrc)
	binary.BigEndian.PutUint32(b[8:], 0x01020304)
	binary.BigEndian.PutUint32(b[16:], 1000)
	return b
}

func TestStreamRoundTrip(t *testing.T) {
	for _, su := range Suites {
		t.Run(su.String(), func(t *testing.T) {
			a, b := pair(t, su)
			buf := make([]byte, 1500)
			for seq := uint16(65530); seq != 10; seq++ { // across a rollover
				plain := rtpPacket(buf, seq, uint32(seq)*160, 0xdecafbad, 160)
				want := bytes.Clone(plain)
				wire, err := a.ProtectRTP(plain)
				if err != nil {
					t.Fatalf("protect %d: %v", seq, err)
				}
				if len(wire) != len(want)+su.AuthTagLen() || bytes.Equal(wire[12:len(want)], want[12:]) {
					t.Fatalf("seq %d: %d wire bytes, payload in clear? %v", seq, len(wire), bytes.Equal(wire[12:len(want)], want[12:]))
				}
				got, err := b.UnprotectRTP(wire)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("seq %d: unprotect: %v, equal %v", seq, err, bytes.Equal(got, want))
				}
			}
			for i := range 3 {
				plain := rtcpRR(buf, 0xdecafbad)
				want := bytes.Clone(plain)
				wire, err := b.ProtectRTCP(plain)
				if err != nil {
					t.Fatal(err)
				}
				if len(wire) != len(want)+b.RTCPTrailer() {
					t.Fatalf("rtcp %d: %d bytes, want %d", i, len(wire), len(want)+b.RTCPTrailer())
				}
				got, err := a.UnprotectRTCP(wire)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("rtcp %d: %v", i, err)
				}
			}
			if st := b.Stats(); st.Unprotected != 16 || st.Protected != 3 || st.AuthFailed+st.Replayed+st.Failed != 0 {
				t.Errorf("receiver stats %+v", st)
			}
		})
	}
}

func TestStreamDrops(t *testing.T) {
	for _, su := range Suites {
		t.Run(su.String(), func(t *testing.T) {
			a, b := pair(t, su)
			_, stranger := pair(t, su)
			buf := make([]byte, 1500)
			protect := func(seq uint16) []byte {
				w, err := a.ProtectRTP(rtpPacket(buf, seq, 0, 7, 160))
				if err != nil {
					t.Fatal(err)
				}
				return bytes.Clone(w)
			}
			// Bad tag: every bit position in the tag, the payload and the header fails.
			for _, bit := range []int{0, 8 * 5, 8 * 20, -1} {
				w := protect(1)
				if bit < 0 {
					bit = 8*len(w) - 1
				}
				w[bit/8] ^= 1 << (bit % 8)
				if _, err := b.UnprotectRTP(w); !errors.Is(err, ErrAuth) {
					t.Errorf("bit %d flipped: %v, want ErrAuth", bit, err)
				}
			}
			// Replay: the second copy of an accepted packet is refused.
			w := protect(2)
			if _, err := b.UnprotectRTP(bytes.Clone(w)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.UnprotectRTP(w); !errors.Is(err, ErrReplay) {
				t.Errorf("replay: %v, want ErrReplay", err)
			}
			// Far older than the window: refused as a replay too.
			for seq := uint16(3); seq < 3+defaultWindow+10; seq++ {
				if _, err := b.UnprotectRTP(protect(seq)); err != nil {
					t.Fatal(err)
				}
			}
			// A packet protected with someone else's key.
			wrong, err := stranger.ProtectRTP(rtpPacket(buf, 500, 0, 7, 160))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.UnprotectRTP(wrong); !errors.Is(err, ErrAuth) {
				t.Errorf("wrong key: %v, want ErrAuth", err)
			}
			// Too short to hold a tag.
			if _, err := b.UnprotectRTP(rtpPacket(buf, 501, 0, 7, 1)); err == nil {
				t.Error("a 13-byte packet unprotected")
			}
			// RTCP: a flipped bit and a replay.
			r, _ := a.ProtectRTCP(rtcpRR(buf, 7))
			r = bytes.Clone(r)
			bad := bytes.Clone(r)
			bad[10] ^= 0x40
			if _, err := b.UnprotectRTCP(bad); !errors.Is(err, ErrAuth) {
				t.Errorf("rtcp bad tag: %v", err)
			}
			if _, err := b.UnprotectRTCP(bytes.Clone(r)); err != nil {
				t.Fatal(err)
			}
			if _, err := b.UnprotectRTCP(r); !errors.Is(err, ErrReplay) {
				t.Errorf("rtcp replay: %v", err)
			}
			st := b.Stats()
			if st.AuthFailed != 6 || st.Replayed != 2 || st.Failed != 1 {
				t.Errorf("stats %+v, want 6 auth failures, 2 replays, 1 other", st)
			}
			// Protect without room for the trailer.
			if _, err := a.ProtectRTP(rtpPacket(buf, 9, 0, 7, 160)[:172:172]); !errors.Is(err, ErrNoRoom) {
				t.Errorf("no room: %v", err)
			}
		})
	}
}

// TestRekey: a rekey keeping the local key keeps its sending state (the receiver still
// accepts the next packets and refuses replays); a new remote key refuses the old key's packets.
func TestRekey(t *testing.T) {
	a, b := pair(t, AESCM128HMACSHA180)
	buf := make([]byte, 1500)
	w, _ := a.ProtectRTP(rtpPacket(buf, 1, 0, 7, 160))
	old := bytes.Clone(w)
	if _, err := b.UnprotectRTP(bytes.Clone(w)); err != nil {
		t.Fatal(err)
	}
	b2, err := b.Rekey(b.Keys()) // same keys: nothing changes, the replay window stays
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.UnprotectRTP(bytes.Clone(old)); !errors.Is(err, ErrReplay) {
		t.Errorf("same keys: replay %v, want ErrReplay", err)
	}
	fresh, _ := NewCrypto(1, AEADAES128GCM)
	a2, err := a.Rekey(Keys{Local: fresh, Remote: a.Keys().Remote})
	if err != nil {
		t.Fatal(err)
	}
	b3, err := b2.Rekey(Keys{Local: b.Keys().Local, Remote: fresh})
	if err != nil {
		t.Fatal(err)
	}
	w, _ = a2.ProtectRTP(rtpPacket(buf, 2, 0, 7, 160))
	if _, err := b3.UnprotectRTP(w); err != nil {
		t.Errorf("new key: %v", err)
	}
	w, _ = a.ProtectRTP(rtpPacket(buf, 3, 0, 7, 160))
	if _, err := b3.UnprotectRTP(w); !errors.Is(err, ErrAuth) {
		t.Errorf("old key after rekey: %v, want ErrAuth", err)
	}
	if st := b3.Stats(); st.Unprotected != 2 || st.Replayed != 1 || st.AuthFailed != 1 {
		t.Errorf("stats across rekeys %+v", st)
	}
}

// TestRekeySameKeyNewTag: a re-INVITE names the same keys under other tags (our key goes out
// under the tag of whichever offer carries it; hold re-offers it as tag 3 where the answer
// had it as tag 1). The contexts carry on: after the 16-bit sequence has wrapped, packets
// protected with the rollover counter at 1 still authenticate on the far end's context that
// kept counting. Remade contexts restarted the counter at 0: nothing authenticated any more.
func TestRekeySameKeyNewTag(t *testing.T) {
	a, b := pair(t, AESCM128HMACSHA180)
	buf := make([]byte, 1500)
	for seq := uint16(65530); seq != 4; seq++ { // across the wrap: the rollover counter goes to 1
		w, _ := a.ProtectRTP(rtpPacket(buf, seq, 0, 7, 160))
		if _, err := b.UnprotectRTP(w); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	retag := func(k Keys, tag int) Keys {
		k.Local.Tag, k.Remote.Tag = tag, tag
		k.Local.WSH, k.Remote.Lifetime = 128, 1<<31 // hints that change nothing either
		return k
	}
	a2, err := a.Rekey(retag(a.Keys(), 3))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := b.Rekey(retag(b.Keys(), 3))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := a2.ProtectRTP(rtpPacket(buf, 4, 0, 7, 160))
	if _, err := b.UnprotectRTP(bytes.Clone(w)); err != nil {
		t.Errorf("the far end's unchanged context refused our packet after the re-tag: %v", err)
	}
	w, _ = a.ProtectRTP(rtpPacket(buf, 5, 0, 7, 160))
	if _, err := b2.UnprotectRTP(w); err != nil {
		t.Errorf("our re-tagged context refused the far end's packet: %v", err)
	}
}

func TestStreamMKI(t *testing.T) {
	ka, _ := NewCrypto(1, AESCM128HMACSHA180)
	ka.MKI, ka.MKILen = 5, 4
	kb, _ := NewCrypto(1, AESCM128HMACSHA180)
	a, err := NewStream(Keys{Local: ka, Remote: kb})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewStream(Keys{Local: kb, Remote: ka})
	buf := make([]byte, 1500)
	w, err := a.ProtectRTP(rtpPacket(buf, 1, 0, 7, 160))
	if err != nil || len(w) != 172+4+10 || !bytes.Equal(w[172:176], []byte{0, 0, 0, 5}) {
		t.Fatalf("MKI packet: %d bytes %x, %v", len(w), w[172:], err)
	}
	if _, err := b.UnprotectRTP(w); err != nil {
		t.Fatal(err)
	}
}

func TestStreamAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocations are counted without the race detector, whose instrumentation allocates in pion's HMAC path")
	}
	for _, su := range Suites {
		a, b := pair(t, su)
		buf := make([]byte, 1500)
		seq := uint16(0)
		n := testing.AllocsPerRun(200, func() {
			seq++
			w, err := a.ProtectRTP(rtpPacket(buf, seq, 0, 7, 160))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.UnprotectRTP(w); err != nil {
				t.Fatal(err)
			}
			r, err := a.ProtectRTCP(rtcpRR(buf, 7))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.UnprotectRTCP(r); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %.1f allocations per RTP+RTCP protect and unprotect, want 0", su, n)
		}
	}
}

// TestRekeyBackToAnEarlierKey: re-INVITEs take the call from key A to key B and back to A. A's
// contexts take up where they were: its replay window still refuses a packet it took before
// (a fresh context accepted the replay), and its sending state goes on (a fresh one restarted
// the SRTCP index and rollover counter under a used key: keystream again, and under GCM a
// repeated nonce).
func TestRekeyBackToAnEarlierKey(t *testing.T) {
	a, b := pair(t, AEADAES128GCM)
	buf := make([]byte, 1500)
	w, _ := a.ProtectRTP(rtpPacket(buf, 1, 0, 7, 160))
	before := bytes.Clone(w)
	if _, err := b.UnprotectRTP(w); err != nil {
		t.Fatal(err)
	}
	keyA := a.Keys()
	other, _ := NewCrypto(1, AESCM128HMACSHA180)
	a2, err := a.Rekey(Keys{Local: other, Remote: keyA.Remote})
	if err != nil {
		t.Fatal(err)
	}
	b2, err := b.Rekey(Keys{Local: b.Keys().Local, Remote: other})
	if err != nil {
		t.Fatal(err)
	}
	a3, err := a2.Rekey(keyA) // back to A
	if err != nil {
		t.Fatal(err)
	}
	b3, err := b2.Rekey(b.Keys())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b3.UnprotectRTP(bytes.Clone(before)); !errors.Is(err, ErrReplay) {
		t.Errorf("a packet taken under A before, replayed after the way back to A: %v, want ErrReplay", err)
	}
	w, _ = a3.ProtectRTP(rtpPacket(buf, 2, 0, 7, 160))
	if _, err := b3.UnprotectRTP(w); err != nil {
		t.Errorf("the next packet under A: %v", err)
	}
	if a3.txRTCP != a.txRTCP {
		t.Error("A's sending context was made anew: its SRTCP index starts over under a used key")
	}
}

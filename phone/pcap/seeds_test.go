package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The fuzz seeds are generated here, so what each one is stays readable:
// go test ./phone/pcap -run TestSeeds -update-seeds rewrites testdata/fuzz/FuzzReadPcap.
var updateSeeds = flag.Bool("update-seeds", false, "rewrite the FuzzReadPcap seed corpus")

// seedCaptures are the seed files: name and contents.
func seedCaptures(t *testing.T) map[string][]byte {
	at := time.Date(2026, 12, 6, 0, 0, 1, 500000000, time.UTC)
	now := func() time.Time { at = at.Add(20 * time.Millisecond); return at }
	var ng bytes.Buffer
	w, err := NewWriter(&ng, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSIP("UDP", true, alice, bob, []byte(invite))
	w.WriteSIP("UDP", false, bob, alice, []byte(ringing))
	tcp := invite + ringing
	w.WriteSIP("TCP", true, alice6, bob6, []byte(tcp[:40]))
	w.WriteSIP("TCP", true, alice6, bob6, []byte(tcp[40:]))
	w.WriteMedia(alice, bob, []byte{0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xFF}, true)
	w.Close()

	// Raw IP packets of the same messages, framed by hand for classic pcap files.
	ip := func(payload string) []byte {
		buf := make([]byte, 28+len(payload))
		return buildPacket(buf, protoUDP, alice, bob, segment{}, []byte(payload))
	}
	udp := ip(invite)
	eth := append([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0, 5, 0x08, 0x00}, udp...) // one VLAN tag
	sll := append(append(make([]byte, 14), 0x08, 0x00), udp...)
	null := append([]byte{2, 0, 0, 0}, udp...)
	v6 := make([]byte, 40+8+8+len(ringing)) // IPv6 with a hop-by-hop header before UDP
	buildPacket(v6[8:], protoUDP, alice6, bob6, segment{}, []byte(ringing))
	copy(v6, v6[8:48])
	v6[6] = 0 // next header: hop-by-hop
	binary.BigEndian.PutUint16(v6[4:], uint16(len(v6)-40))
	copy(v6[40:48], []byte{protoUDP, 0, 1, 4, 0, 0, 0, 0})

	classic := func(order binary.AppendByteOrder, nanos bool, link uint32, frames ...[]byte) []byte {
		var b []byte
		magic := uint32(0xa1b2c3d4)
		if nanos {
			magic = 0xa1b23c4d
		}
		b = order.AppendUint32(b, magic)
		b = order.AppendUint16(b, 2)
		b = order.AppendUint16(b, 4)
		b = order.AppendUint32(b, 0)
		b = order.AppendUint32(b, 0)
		b = order.AppendUint32(b, 65535)
		b = order.AppendUint32(b, link)
		for i, f := range frames {
			b = order.AppendUint32(b, uint32(1796515200+i))
			b = order.AppendUint32(b, 999)
			b = order.AppendUint32(b, uint32(len(f)))
			b = order.AppendUint32(b, uint32(len(f)))
			b = append(b, f...)
		}
		return b
	}
	return map[string][]byte{
		"dialtone-pcapng":   ng.Bytes(),
		"classic-raw-le-us": classic(binary.LittleEndian, false, LinkTypeRaw, udp, v6),
		"classic-eth-be-ns": classic(binary.BigEndian, true, linkEthernet, eth),
		"classic-sll":       classic(binary.LittleEndian, false, linkSLL, sll),
		"classic-null":      classic(binary.LittleEndian, false, linkNull, null),
		"truncated":         ng.Bytes()[:ng.Len()-10],
	}
}

// TestSeeds: every seed reads as intended (the SIP messages in it are found), and the corpus
// on disk is the one generated here.
func TestSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadPcap")
	want := map[string]int{"dialtone-pcapng": 4, "classic-raw-le-us": 2, "classic-eth-be-ns": 1, "classic-sll": 1, "classic-null": 1}
	for name, b := range seedCaptures(t) {
		n := 0
		err := ReadSIP(bytes.NewReader(b), func(SIPMessage) error { n++; return nil })
		if name == "truncated" {
			if err == nil {
				t.Errorf("%s: no error", name)
			}
		} else if err != nil || n != want[name] {
			t.Errorf("%s: %d SIP messages (want %d), err %v", name, n, want[name], err)
		}
		file := filepath.Join(dir, name)
		enc := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b))))
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, enc, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, enc) {
			t.Errorf("%s: seed on disk differs from the generated one (run with -update-seeds): %v", name, err)
		}
	}
}

// TestCutAfterAHeaderIsCutShort: a capture that ends right after a block's (pcapng) or a
// record's (classic pcap) header is cut short, not complete: the read of what the header
// announced found nothing, which is io.EOF, and was taken for the file's clean end.
func TestCutAfterAHeaderIsCutShort(t *testing.T) {
	seeds := seedCaptures(t)
	ng := append(append([]byte(nil), seeds["dialtone-pcapng"]...), 6, 0, 0, 0, 32, 0, 0, 0) // an EPB of 32 bytes, its header only
	little := append(append([]byte(nil), seeds["classic-raw-le-us"]...), make([]byte, 16)...)
	little[len(little)-8] = 60 // a record of 60 bytes, its header only
	for name, b := range map[string][]byte{"pcapng": ng, "classic": little} {
		err := ReadSIP(bytes.NewReader(b), func(SIPMessage) error { return nil })
		if err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s cut after a header: %v, want an error saying it was cut short", name, err)
		}
	}
}

package interop

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/audio/audiotest"
	"github.com/dialtone/dialtone/audio/wav"
	"github.com/dialtone/dialtone/interop/peers"
)

// TestTimestampJumpUnderOneSSRCPlaysOn: sipp plays 3 s of an 800 Hz tone whose RTP timestamps
// jump by a second halfway, under the same SSRC and with the sequence numbers going on, the
// first packet after the jump marked: what a PBX sends when it bridges a transfer or starts
// music on hold (Asterisk, FreeSWITCH). dialtone plays on without a gap. Before, a second
// back lost a second of audio as late, and a second ahead left a gap of silence.
func TestTimestampJumpUnderOneSSRCPlaysOn(t *testing.T) {
	t.Parallel()
	payload := ulawTone(t, 3, 800)
	for _, c := range []struct {
		name string
		jump int32 // samples
	}{{"back", -8000}, {"ahead", 8000}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec, _ := callSippPlaying(t, pcapTone(payload, 0x5eed1234, 75, c.jump))
			heard, gap := toneAndGap(t, rec, 800)
			if heard < 2.6 || gap > 0.15 {
				t.Fatalf("800 Hz heard for %.2f s of 3 s with a gap of %.2f s at the jump, want it all and no gap", heard, gap)
			}
		})
	}
}

// ulawTone is secs seconds of a hz tone at half scale as raw µ-law from sox; the test is
// skipped without sox.
func ulawTone(t *testing.T, secs int, hz int) []byte {
	t.Helper()
	tone := filepath.Join(t.TempDir(), "tone.ulaw")
	if out, err := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw", tone,
		"synth", strconv.Itoa(secs), "sine", strconv.Itoa(hz), "vol", "0.5").CombinedOutput(); err != nil {
		t.Skipf("sox: %v %s", err, out)
	}
	payload, err := os.ReadFile(tone)
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// callSippPlaying has `dialtone call` (4 s, recording) call sipp, which answers and plays the
// packets as they are (testdata/sipp_uas_plays_pcap.xml); it returns the recording and the
// events, failing the test unless the call ends as it should.
func callSippPlaying(t *testing.T, pkts []rtpOut) (string, []event) {
	t.Helper()
	pcap := filepath.Join(t.TempDir(), "play.pcap")
	writeRTPPcap(t, pcap, pkts)
	xml := strings.ReplaceAll(readFile(t, "testdata/sipp_uas_plays_pcap.xml"), "[pcap_file]", pcap)
	scenario := filepath.Join(t.TempDir(), "plays_pcap.xml")
	if err := os.WriteFile(scenario, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := peers.StartSippUAS(t, peers.SippOptions{Scenario: scenario})
	rec := filepath.Join(t.TempDir(), "heard.wav")
	code, evs, p := runDialtone(t, 30*time.Second, nil, "call", s.URI("bob"), "--json", "--audio", "null", "--record", rec, "--duration", "4s")
	if code != 0 {
		t.Fatalf("exit %d\n%s\nsipp:\n%s", code, p.transcript(), s.Log())
	}
	return rec, evs
}

// toneAndGap returns how long freq sounds in the WAV file at path and the longest stretch
// without it between its first and last 50 ms.
func toneAndGap(t *testing.T, path string, freq float64) (heard, gap float64) {
	t.Helper()
	samples, rate, err := wav.ReadAll(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	block := rate / 20
	var first, last, n, run, longest int
	first = -1
	for i := 0; i+block <= len(samples); i += block {
		if found, _, _ := audiotest.DetectTone(samples[i:i+block], rate, freq); found {
			if first < 0 {
				first = i
			}
			last, n, longest, run = i, n+1, max(longest, run), 0
		} else if first >= 0 {
			run++
		}
	}
	heard, gap = float64(n*block)/float64(rate), float64(longest*block)/float64(rate)
	t.Logf("%s: %.0f Hz in %.2f s (first at %.2f s, last at %.2f s), longest gap %.2f s", filepath.Base(path), freq,
		heard, float64(first)/float64(rate), float64(last)/float64(rate), gap)
	return heard, gap
}

// rtpOut is one RTP packet for a pcap that sipp plays: at is its time from the first.
type rtpOut struct {
	at      time.Duration
	pt      uint8
	marker  bool
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte
}

// pcapTone cuts the PCMU payload into 20 ms packets of one SSRC, 20 ms apart, whose timestamps
// move by jump samples from packet jumpAt on, that packet carrying the marker bit (jumpAt -1:
// none).
func pcapTone(payload []byte, ssrc uint32, jumpAt int, jump int32) []rtpOut {
	var out []rtpOut
	ts := uint32(123456)
	for i := 0; (i+1)*160 <= len(payload); i++ {
		if i == jumpAt {
			ts += uint32(jump)
		}
		out = append(out, rtpOut{at: time.Duration(i) * 20 * time.Millisecond, marker: i == jumpAt,
			seq: uint16(4000 + i), ts: ts, ssrc: ssrc, payload: payload[i*160 : (i+1)*160]})
		ts += 160
	}
	return out
}

// writeRTPPcap writes a classic pcap (Ethernet, IPv4, UDP) of the packets, in their order.
// sipp's play_pcap_audio sends their RTP as it is, at their times.
func writeRTPPcap(t *testing.T, path string, pkts []rtpOut) {
	t.Helper()
	le := binary.LittleEndian
	out := make([]byte, 24)
	le.PutUint32(out[0:], 0xa1b2c3d4)
	le.PutUint16(out[4:], 2)
	le.PutUint16(out[6:], 4)
	le.PutUint32(out[16:], 65535)
	le.PutUint32(out[20:], 1) // LINKTYPE_ETHERNET
	start := time.Unix(1_700_000_000, 0)
	for _, p := range pkts {
		rtp := make([]byte, 12, 12+len(p.payload))
		rtp[0], rtp[1] = 0x80, p.pt
		if p.marker {
			rtp[1] |= 0x80
		}
		binary.BigEndian.PutUint16(rtp[2:], p.seq)
		binary.BigEndian.PutUint32(rtp[4:], p.ts)
		binary.BigEndian.PutUint32(rtp[8:], p.ssrc)
		frame := ethernetIPv4UDP(append(rtp, p.payload...))
		when := start.Add(p.at)
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(when.Unix()))
		le.PutUint32(rec[4:], uint32(when.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		out = append(append(out, rec...), frame...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// ethernetIPv4UDP wraps a UDP payload from 127.0.0.1:6000 to 127.0.0.1:6002 (sipp puts its own
// addresses in when it plays the file).
func ethernetIPv4UDP(udpPayload []byte) []byte {
	be := binary.BigEndian
	b := make([]byte, 14+20+8, 14+20+8+len(udpPayload))
	be.PutUint16(b[12:], 0x0800)
	ip := b[14:34]
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+8+len(udpPayload)))
	ip[8], ip[9] = 64, 17
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(ip[10:], ^uint16(sum))
	udp := b[34:42]
	be.PutUint16(udp[0:], 6000)
	be.PutUint16(udp[2:], 6002)
	be.PutUint16(udp[4:], uint16(8+len(udpPayload)))
	return append(b, udpPayload...)
}

// TestDigitsOnTheirOwnSSRCAreHeard: sipp plays 3 s of an 800 Hz tone and, a second in, the
// digit 5 as RFC 4733 events on an SSRC and sequence of their own (some gateways send events
// so). dialtone reports the digit and plays the tone through it. Before, the events were
// dropped as a second stream interleaved with the audio.
func TestDigitsOnTheirOwnSSRCAreHeard(t *testing.T) {
	t.Parallel()
	pkts := pcapTone(ulawTone(t, 3, 800), 0x5eed1234, -1, 0)
	// Digit 5 for 120 ms from 1 s on: an event packet every 20 ms, the end sent three times.
	var merged []rtpOut
	for i, p := range pkts {
		merged = append(merged, p)
		if e := i - 50; e >= 0 && e < 9 {
			ev := []byte{5, 10, 0, byte(160 * min(e+1, 6))}
			if e >= 6 {
				ev[1] |= 0x80
			}
			merged = append(merged, rtpOut{at: p.at + 5*time.Millisecond, pt: 101, marker: e == 0,
				seq: uint16(9000 + e), ts: 5550000, ssrc: 0xd7d7d7d7, payload: ev})
		}
	}
	rec, evs := callSippPlaying(t, merged)
	var digits []string
	for _, e := range evs {
		if e.name() == "dtmf" {
			digits = append(digits, e.str("digit"))
		}
	}
	if strings.Join(digits, "") != "5" {
		t.Fatalf("digits %q, want [5]", digits)
	}
	if heard, gap := toneAndGap(t, rec, 800); heard < 2.6 || gap > 0.15 {
		t.Fatalf("800 Hz heard for %.2f s of 3 s with a gap of %.2f s, want it all", heard, gap)
	}
}

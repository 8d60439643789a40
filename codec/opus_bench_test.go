//go:build cgo && !noopus

package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// benchVoice is one second of voiceLike audio: the encoder works harder on changing spectra
// than on a steady tone.
var benchVoice = voiceLike(50)

func benchOpusEncode(b *testing.B, s opusSettings) {
	enc, err := newOpusEncoderWith(s)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, Opus.MaxPayload())
	b.ReportAllocs()
	start, _ := cpuClock()
	defer func() { reportCPU(b, start) }()
	i := 0
	for b.Loop() {
		f := i % 50 * opusFrame
		if _, err := enc.Encode(dst, benchVoice[f:f+opusFrame]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpusEncode is one 20 ms frame through our binding with dialtone's settings.
func BenchmarkOpusEncode(b *testing.B) { benchOpusEncode(b, defaultOpusSettings) }

// BenchmarkOpusEncodeComplexity shows what the complexity setting costs, for the choice in
// opus_cgo.go.
func BenchmarkOpusEncodeComplexity(b *testing.B) {
	for _, c := range []int{0, 3, 5, 7, 9, 10} {
		s := defaultOpusSettings
		s.complexity = c
		b.Run(fmt.Sprint(c), func(b *testing.B) { benchOpusEncode(b, s) })
	}
}

// benchPackets is benchVoice encoded with dialtone's settings.
func benchPackets(b *testing.B) [][]byte {
	enc := Opus.NewEncoder()
	var packets [][]byte
	for f := 0; f < len(benchVoice); f += opusFrame {
		p := make([]byte, Opus.MaxPayload())
		n, err := enc.Encode(p, benchVoice[f:f+opusFrame])
		if err != nil {
			b.Fatal(err)
		}
		packets = append(packets, p[:n])
	}
	return packets
}

// BenchmarkOpusDecode is one 20 ms packet through our binding.
func BenchmarkOpusDecode(b *testing.B) {
	benchEachPacket(b, func(dec Decoder, dst []int16, p []byte) (int, error) { return dec.Decode(dst, p) })
}

// benchEachPacket runs decode over the benchmark's packets in turn, one per op, reporting
// allocations and CPU time.
func benchEachPacket(b *testing.B, decode func(dec Decoder, dst []int16, p []byte) (int, error)) {
	packets := benchPackets(b)
	dec := Opus.NewDecoder()
	dst := make([]int16, opusFrame)
	b.ReportAllocs()
	start, _ := cpuClock()
	defer func() { reportCPU(b, start) }()
	i := 0
	for b.Loop() {
		if _, err := decode(dec, dst, packets[i%len(packets)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkOpusConceal and BenchmarkOpusDecodeFEC: a lost frame's cost, by PLC or FEC.
func BenchmarkOpusConceal(b *testing.B) {
	dec := Opus.NewDecoder()
	dst := make([]int16, opusFrame)
	for _, p := range benchPackets(b)[:10] {
		dec.Decode(dst, p)
	}
	b.ReportAllocs()
	start, _ := cpuClock()
	defer func() { reportCPU(b, start) }()
	for b.Loop() {
		if _, err := dec.(Concealer).Conceal(dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpusDecodeFEC(b *testing.B) {
	benchEachPacket(b, func(dec Decoder, dst []int16, p []byte) (int, error) { return dec.(FECDecoder).DecodeFEC(dst, p) })
}

// The peer: libopus driven by a C loop (testdata/opuspeer/opuspeer.c) on the same frames with
// the same settings, built with gcc at test time (cgo is not allowed in test files). Its own
// clocks time only its loop and are reported as ns/op and cpu-ns/op, so the gap to BenchmarkOpusEncode and
// BenchmarkOpusDecode in the same run is what our cgo binding adds.

// opusCFlags are libopus's compiler and linker flags, asked of pkg-config once.
var opusCFlags = sync.OnceValues(func() ([]string, error) {
	out, err := exec.Command("pkg-config", "--cflags", "--libs", "opus").Output()
	if err != nil {
		return nil, fmt.Errorf("pkg-config opus: %w", err)
	}
	return strings.Fields(string(out)), nil
})

// runOpusPeer builds the peer into b's temporary directory (gone after each run of b, so
// every run builds it: a fraction of a second) and runs it for b.N frames.
func runOpusPeer(b *testing.B, stdin []byte, mode string, args ...string) {
	flags, err := opusCFlags()
	if err != nil {
		b.Skipf("no C peer: %v", err)
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		b.Skip("no C peer: gcc is not installed")
	}
	bin := filepath.Join(b.TempDir(), "opuspeer")
	gcc := append([]string{"-O2", "-o", bin, filepath.Join("testdata", "opuspeer", "opuspeer.c")}, flags...)
	if out, err := exec.Command("gcc", gcc...).CombinedOutput(); err != nil {
		b.Fatalf("gcc opuspeer.c: %v: %s", err, out)
	}
	b.ResetTimer() // the compile is not the peer's cost
	cmd := exec.Command(bin, append([]string{mode, strconv.Itoa(b.N)}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("opuspeer %s: %v", mode, err)
	}
	var ns, cpu float64
	if _, err := fmt.Sscan(string(out), &ns, &cpu); err != nil {
		b.Fatalf("opuspeer printed %q: %v", out, err)
	}
	b.ReportMetric(ns, "ns/op")
	b.ReportMetric(cpu, "cpu-ns/op")
}

func BenchmarkPeerLibopusCEncode(b *testing.B) {
	pcm := make([]byte, 0, 2*len(benchVoice))
	for _, v := range benchVoice {
		pcm = binary.LittleEndian.AppendUint16(pcm, uint16(v))
	}
	s := defaultOpusSettings
	runOpusPeer(b, pcm, "enc", strconv.Itoa(s.bitrate), strconv.Itoa(s.complexity), strconv.Itoa(s.lossPerc))
}

func BenchmarkPeerLibopusCDecode(b *testing.B) {
	var in []byte
	for _, p := range benchPackets(b) {
		in = binary.BigEndian.AppendUint16(in, uint16(len(p)))
		in = append(in, p...)
	}
	runOpusPeer(b, in, "dec")
}

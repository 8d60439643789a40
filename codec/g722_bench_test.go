package codec

import (
	"testing"

	"github.com/dialtone/dialtone/codec/internal/spandsp"
)

// One 20 ms frame (320 samples, 160 octets) per op, ours beside spandsp's G.722 in the same
// run: `go test -bench G722 -benchmem ./codec/` prints both, so the ratio is what we report.

// g722BenchFrames are 50 frames (one second) of the sweep, so the quantiser and the
// predictor see changing input rather than one frame's steady state.
var g722BenchFrames = func() []int16 { return g722Signals()["sweep"][:g722Rate] }()

func BenchmarkG722Encode(b *testing.B) {
	enc := G722.NewEncoder()
	dst := make([]byte, G722.MaxPayload())
	b.ReportAllocs()
	b.SetBytes(2 * g722FrameSamples)
	i := 0
	for b.Loop() {
		if _, err := enc.Encode(dst, g722BenchFrames[i:i+g722FrameSamples]); err != nil {
			b.Fatal(err)
		}
		i = (i + g722FrameSamples) % len(g722BenchFrames)
	}
}

func BenchmarkG722Decode(b *testing.B) {
	payload := g722BenchPayload(b)
	dec := G722.NewDecoder()
	dst := make([]int16, g722FrameSamples)
	b.ReportAllocs()
	b.SetBytes(g722FrameOctets)
	i := 0
	for b.Loop() {
		if _, err := dec.Decode(dst, payload[i:i+g722FrameOctets]); err != nil {
			b.Fatal(err)
		}
		i = (i + g722FrameOctets) % len(payload)
	}
}

func BenchmarkG722EncodeSpandsp(b *testing.B) {
	if !spandsp.Available {
		b.Skip("spandsp peer not built in (needs cgo and libspandsp-dev)")
	}
	enc, err := spandsp.NewEncoder()
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	dst := make([]byte, G722.MaxPayload())
	b.ReportAllocs()
	b.SetBytes(2 * g722FrameSamples)
	i := 0
	for b.Loop() {
		if n := enc.Encode(dst, g722BenchFrames[i:i+g722FrameSamples]); n != g722FrameOctets {
			b.Fatalf("spandsp encoded %d octets", n)
		}
		i = (i + g722FrameSamples) % len(g722BenchFrames)
	}
}

func BenchmarkG722DecodeSpandsp(b *testing.B) {
	if !spandsp.Available {
		b.Skip("spandsp peer not built in (needs cgo and libspandsp-dev)")
	}
	payload := g722BenchPayload(b)
	dec, err := spandsp.NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	dst := make([]int16, g722FrameSamples)
	b.ReportAllocs()
	b.SetBytes(g722FrameOctets)
	i := 0
	for b.Loop() {
		if n := dec.Decode(dst, payload[i:i+g722FrameOctets]); n != g722FrameSamples {
			b.Fatalf("spandsp decoded %d samples", n)
		}
		i = (i + g722FrameOctets) % len(payload)
	}
}

func g722BenchPayload(b *testing.B) []byte {
	p := make([]byte, len(g722BenchFrames)/2)
	if _, err := G722.NewEncoder().Encode(p, g722BenchFrames); err != nil {
		b.Fatal(err)
	}
	return p
}

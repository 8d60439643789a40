package codec

import "testing"

// TestPacketTicks: the duration of a payload, read from the payload, in RTP clock ticks.
func TestPacketTicks(t *testing.T) {
	cases := []struct {
		name    string
		c       Codec
		payload []byte
		want    int
	}{
		{"PCMU 30 ms", PCMU, make([]byte, 240), 240},
		{"PCMA 10 ms", PCMA, make([]byte, 80), 80},
		{"empty", PCMU, nil, 0},
		// Opus TOC: config<<3 | code.
		{"opus SILK 20 ms, one frame", opusNamed{}, []byte{1 << 3}, 960},
		{"opus SILK 60 ms", opusNamed{}, []byte{3 << 3}, 2880},
		{"opus hybrid 10 ms, two frames", opusNamed{}, []byte{12<<3 | 1}, 960},
		{"opus CELT 20 ms, code 2", opusNamed{}, []byte{19<<3 | 2, 5}, 1920},
		{"opus CELT 2.5 ms × 3, code 3", opusNamed{}, []byte{16<<3 | 3, 3}, 360},
		{"opus code 3 without its count", opusNamed{}, []byte{16<<3 | 3}, 0},
		{"opus code 3, no frames", opusNamed{}, []byte{16<<3 | 3, 0}, 0},
		{"opus over 120 ms", opusNamed{}, []byte{3<<3 | 3, 3}, 0},
		{"opus empty", opusNamed{}, nil, 0},
	}
	for _, c := range cases {
		if got := PacketTicks(c.c, c.payload); got != c.want {
			t.Errorf("%s: PacketTicks = %d, want %d", c.name, got, c.want)
		}
	}
	if got := PacketTicks(G722, make([]byte, 160)); got != 160 {
		t.Errorf("G.722 20 ms: PacketTicks = %d, want 160", got)
	}
	if Opus != nil {
		if got := PacketTicks(Opus, []byte{3 << 3}); got != 2880 {
			t.Errorf("Opus 60 ms: PacketTicks = %d, want 2880", got)
		}
	}
}

// TestConcatenable: the byte-stream codecs only.
func TestConcatenable(t *testing.T) {
	for _, c := range []struct {
		c    Codec
		want bool
	}{{PCMU, true}, {PCMA, true}, {G722, true}, {opusNamed{}, false}} {
		if got := Concatenable(c.c); got != c.want {
			t.Errorf("Concatenable(%T) = %v, want %v", c.c, got, c.want)
		}
	}
	if Opus != nil && Concatenable(Opus) {
		t.Error("Opus packets do not concatenate")
	}
}

// opusNamed stands in for Opus where libopus is not built in: its packets' durations are read
// by the same code.
type opusNamed struct{ Codec }

func (opusNamed) PacketTicks(p []byte) int { return opusPacketSamples(p) }

// FuzzPacketTicks: any payload gives a duration within RFC 6716's limits, or 0, never a panic.
func FuzzPacketTicks(f *testing.F) {
	f.Add([]byte{3<<3 | 3, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		if n := PacketTicks(opusNamed{}, p); n < 0 || n > 5760 {
			t.Fatalf("PacketTicks(%x) = %d", p, n)
		}
	})
}

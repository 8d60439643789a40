package codec

import "testing"

func TestAllOrder(t *testing.T) {
	// Wideband codecs this build has (Opus, G.722) come first, then PCMU and PCMA.
	all := All()
	if n := len(all); n < 2 || all[n-2] != PCMU || all[n-1] != PCMA {
		t.Fatalf("All() = %v, want [... PCMU PCMA]", all)
	}
	for _, c := range all[:len(all)-2] {
		if c.SampleRate() <= SampleRate {
			t.Errorf("%s (%d Hz) is before G.711", c.Name(), c.SampleRate())
		}
	}
	first := all[0]
	all[0] = nil // callers own the slice
	if All()[0] != first {
		t.Fatal("mutating All()'s result changed the registry")
	}
}

func TestByPayloadType(t *testing.T) {
	for pt, want := range map[uint8]Codec{0: PCMU, 8: PCMA} {
		if c, ok := ByPayloadType(pt); !ok || c != want {
			t.Errorf("ByPayloadType(%d) = %v, %v", pt, c, ok)
		}
	}
	for _, pt := range []uint8{3, 18, 96, 101, 127, 255} {
		if c, ok := ByPayloadType(pt); ok {
			t.Errorf("ByPayloadType(%d) = %v, want none", pt, c.Name())
		}
	}
}

func TestByName(t *testing.T) {
	hits := map[string]Codec{
		"PCMU": PCMU, "pcmu": PCMU, "PcMu": PCMU, "PCMU/8000": PCMU, "pcmu/8000/1": PCMU, " PCMU/8000 ": PCMU,
		"PCMA": PCMA, "pcma": PCMA, "PCMA/8000": PCMA, "PCMA/8000/1": PCMA,
	}
	for name, want := range hits {
		if c, ok := ByName(name); !ok || c != want {
			t.Errorf("ByName(%q) = %v, %v; want %s", name, c, ok, want.Name())
		}
	}
	for _, name := range []string{"", "G723", "PCM", "PCMU8000", "PCMU/", "PCMU/16000", "PCMU/8000/2", "PCMA/x", "telephone-event/8000", "/8000"} {
		if c, ok := ByName(name); ok {
			t.Errorf("ByName(%q) = %s, want none", name, c.Name())
		}
	}
	// Names round-trip through the registry.
	for _, c := range All() {
		if got, ok := ByName(c.Name()); !ok || got != c {
			t.Errorf("ByName(%q) did not find itself", c.Name())
		}
		if got, ok := ByPayloadType(c.PayloadType()); !ok || got != c {
			t.Errorf("ByPayloadType(%d) did not find %s", c.PayloadType(), c.Name())
		}
	}
}

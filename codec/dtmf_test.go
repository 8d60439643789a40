package codec

import (
	"bytes"
	"errors"
	"testing"
)

// Wire examples, laid out per RFC 4733 §2.3 (Figure 1).
var dtmfVectors = []struct {
	name string
	ev   DTMFEvent
	wire []byte
}{
	// [MS-RTPDT] §4 example: digit 1, E=1, R=0, volume 20, duration 1760.
	{"ms-rtpdt", DTMFEvent{Event: 1, End: true, Volume: 20, Duration: 1760}, []byte{0x01, 0x94, 0x06, 0xE0}},
	// First packet of digit 5 at -10 dBm0 after one 20 ms frame (160 units at 8 kHz).
	{"start", DTMFEvent{Event: 5, Volume: 10, Duration: 160}, []byte{0x05, 0x0A, 0x00, 0xA0}},
	// '#' ending after 100 ms at the quietest level.
	{"end", DTMFEvent{Event: 11, End: true, Volume: 63, Duration: 800}, []byte{0x0B, 0xBF, 0x03, 0x20}},
	// Flash (16), maximum duration of one segment (RFC 4733 §2.5.1.3).
	{"flash", DTMFEvent{Event: EventFlash, Duration: 0xFFFF}, []byte{0x10, 0x00, 0xFF, 0xFF}},
	{"zero", DTMFEvent{}, []byte{0, 0, 0, 0}},
}

func TestDTMFVectors(t *testing.T) {
	for _, v := range dtmfVectors {
		var b [DTMFEventLen]byte
		n, err := v.ev.MarshalTo(b[:])
		if err != nil || n != DTMFEventLen || !bytes.Equal(b[:], v.wire) {
			t.Errorf("%s: MarshalTo = % x, %d, %v; want % x", v.name, b, n, err, v.wire)
		}
		got, err := ParseDTMFEvent(v.wire)
		if err != nil || got != v.ev {
			t.Errorf("%s: Parse(% x) = %+v, %v; want %+v", v.name, v.wire, got, err, v.ev)
		}
	}
}

func TestDTMFRoundTripAllHeaders(t *testing.T) {
	// Every event code, E bit and volume, with a few durations.
	for ev := range 256 {
		for vol := range MaxDTMFVolume + 1 {
			for _, end := range []bool{false, true} {
				for _, dur := range []uint16{0, 1, 160, 0x1234, 0xFFFF} {
					in := DTMFEvent{Event: uint8(ev), End: end, Volume: uint8(vol), Duration: dur}
					var b [DTMFEventLen]byte
					if _, err := in.MarshalTo(b[:]); err != nil {
						t.Fatalf("MarshalTo(%+v): %v", in, err)
					}
					if out, err := ParseDTMFEvent(b[:]); err != nil || out != in {
						t.Fatalf("round trip %+v -> % x -> %+v, %v", in, b, out, err)
					}
				}
			}
		}
	}
}

func TestDTMFParseIgnoresReservedAndTrailing(t *testing.T) {
	want := DTMFEvent{Event: 1, End: true, Volume: 20, Duration: 1760}
	// R bit set: the receiver MUST ignore it.
	if got, err := ParseDTMFEvent([]byte{0x01, 0xD4, 0x06, 0xE0}); err != nil || got != want {
		t.Errorf("R bit set: %+v, %v", got, err)
	}
	// Two blocks (RFC 4733 §2.5.1.5): the first is returned, the rest left for the caller.
	if got, err := ParseDTMFEvent([]byte{0x01, 0x94, 0x06, 0xE0, 0x02, 0x14, 0x00, 0xA0}); err != nil || got != want {
		t.Errorf("two blocks: %+v, %v", got, err)
	}
}

func TestDTMFErrors(t *testing.T) {
	for n := range DTMFEventLen {
		if _, err := ParseDTMFEvent(make([]byte, n)); !errors.Is(err, ErrShortDTMF) {
			t.Errorf("Parse of %d bytes: %v, want ErrShortDTMF", n, err)
		}
		if _, err := (DTMFEvent{}).MarshalTo(make([]byte, n)); !errors.Is(err, ErrShortDTMF) {
			t.Errorf("MarshalTo %d bytes: %v, want ErrShortDTMF", n, err)
		}
	}
	b := []byte{9, 9, 9, 9}
	for _, vol := range []uint8{64, 100, 255} {
		if n, err := (DTMFEvent{Volume: vol}).MarshalTo(b); !errors.Is(err, ErrDTMFVolume) || n != 0 {
			t.Errorf("volume %d: %d, %v; want ErrDTMFVolume", vol, n, err)
		}
	}
	if !bytes.Equal(b, []byte{9, 9, 9, 9}) {
		t.Errorf("failed MarshalTo wrote % x", b)
	}
}

func TestDigits(t *testing.T) {
	keys := "0123456789*#ABCD"
	for i, r := range keys {
		ev, ok := DigitEvent(r)
		if !ok || int(ev) != i {
			t.Errorf("DigitEvent(%q) = %d, %v; want %d", r, ev, ok, i)
		}
		back, ok := EventDigit(uint8(i))
		if !ok || back != r {
			t.Errorf("EventDigit(%d) = %q, %v; want %q", i, back, ok, r)
		}
	}
	for i, r := range "abcd" {
		if ev, ok := DigitEvent(r); !ok || int(ev) != 12+i {
			t.Errorf("DigitEvent(%q) = %d, %v", r, ev, ok)
		}
	}
	for _, r := range []rune{'E', 'e', 'x', ' ', '+', ',', '/', ':', '@', '`', 0, '٣', -1} {
		if ev, ok := DigitEvent(r); ok {
			t.Errorf("DigitEvent(%q) = %d, want none", r, ev)
		}
	}
	for ev := 16; ev < 256; ev++ {
		if r, ok := EventDigit(uint8(ev)); ok {
			t.Errorf("EventDigit(%d) = %q, want none", ev, r)
		}
	}
}

package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// onsets returns the sample index of every click in pcm: the first sample whose magnitude
// reaches threshold, after at least refractory samples since the previous onset.
func clickOnsets(pcm []int16, threshold int, refractory int) []int {
	var out []int
	last := -refractory
	for i, s := range pcm {
		v := int(s)
		if v < 0 {
			v = -v
		}
		if v >= threshold && i-last >= refractory {
			out = append(out, i)
			last = i
		}
	}
	return out
}

// pairDelays pairs every recorded onset with the nearest played one and returns rec − played
// for the pairs closer than maxSkew (samples at rate).
func clickDelays(played, rec []int, rate int, maxSkew int) []time.Duration {
	var out []time.Duration
	for _, r := range rec {
		best, bestAbs := 0, -1
		for _, p := range played {
			d := r - p
			a := max(d, -d)
			if bestAbs < 0 || a < bestAbs {
				best, bestAbs = d, a
			}
		}
		if bestAbs >= 0 && bestAbs < maxSkew {
			out = append(out, time.Duration(best)*time.Second/time.Duration(rate))
		}
	}
	return out
}

// fileDelays is the per-click delay from the played WAV file to the recorded one.
func clickFileDelays(b *testing.B, played, recorded string) []time.Duration {
	p, err := readWAV16(played)
	if err != nil {
		b.Fatal(err)
	}
	r, err := readWAV16(recorded)
	if err != nil {
		b.Fatal(err)
	}
	refr := int(onsetRefractory.Seconds() * clickRate)
	po, ro := clickOnsets(p, onsetThreshold, refr), clickOnsets(r, onsetThreshold, refr)
	d := clickDelays(po, ro, clickRate, int((clickPeriod/2).Seconds()*clickRate))
	if len(d) < len(po)/2 {
		b.Fatalf("%s: only %d of %d clicks found (%d onsets)", recorded, len(d), len(po), len(ro))
	}
	return d
}

// readWAV16 reads a mono 16-bit PCM WAV at clickRate.
func readWAV16(path string) ([]int16, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 12 || string(raw[0:4]) != "RIFF" || string(raw[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%s: not a WAV file", path)
	}
	var fmtOK bool
	for off := 12; off+8 <= len(raw); {
		id, size := string(raw[off:off+4]), int(binary.LittleEndian.Uint32(raw[off+4:]))
		body := raw[off+8:]
		if size > len(body) || size < 0 {
			size = len(body) // a recording cut short keeps what it has
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("%s: short fmt chunk", path)
			}
			ch, rate, bits := binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if ch != 1 || rate != clickRate || bits != 16 {
				return nil, fmt.Errorf("%s: %d channels %d Hz %d bits, want mono %d Hz 16 bits", path, ch, rate, bits, clickRate)
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, fmt.Errorf("%s: data before fmt", path)
			}
			pcm := make([]int16, len(body)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, nil
		}
		off += 8 + size + size%2
	}
	return nil, errors.New(path + ": no data chunk")
}

// udpFree reports whether UDP port on 127.0.0.1 can be bound now.
func latUDPFree(port int) bool {
	c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestOnsetsAndPairing: the detector finds clicks written by writeClicks at their exact
// sample, through a delay, and pairs them back with that delay.
func TestOnsetsAndPairing(t *testing.T) {
	path := t.TempDir() + "/c.wav"
	if err := writeClicks(path, 0); err != nil {
		t.Fatal(err)
	}
	pcm, err := readWAV16(path)
	if err != nil {
		t.Fatal(err)
	}
	refr := int(onsetRefractory.Seconds() * clickRate)
	played := clickOnsets(pcm, onsetThreshold, refr)
	if len(played) != 19 || played[0] != clickRate || played[1]-played[0] != clickRate/2 {
		t.Fatalf("onsets %v, want 19 from sample %d every %d", played, clickRate, clickRate/2)
	}
	const shift = 301 // 37.625 ms
	delayed := append(make([]int16, shift), pcm...)
	got := clickDelays(played, clickOnsets(delayed, onsetThreshold, refr), clickRate, clickRate/4)
	want := time.Duration(shift) * time.Second / clickRate
	if len(got) != len(played) || got[0] != want || got[len(got)-1] != want {
		t.Fatalf("delays %v, want %d × %v", got, len(played), want)
	}
	if _, err := readWAV16(strings.TrimSuffix(path, ".wav")); err == nil {
		t.Fatal("reading a missing file: no error")
	}
}

package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/dialtone/dialtone/codec"
)

// impGrowth is one observation of a recording file growing: at offset at from the stream start
// the file held size bytes. The recorders write each frame as they hand it to the "speaker",
// so these map recorded samples to wall-clock playout times.
type impGrowth struct {
	at   time.Duration
	size int64
}

// watchGrowth polls path (a glob: baresip names its file itself) every 2 ms until ctx ends.
func watchGrowth(ctx context.Context, start time.Time, glob string) []impGrowth {
	var out []impGrowth
	last := int64(-1)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		m, _ := filepath.Glob(glob)
		if len(m) == 0 {
			continue
		}
		fi, err := os.Stat(m[len(m)-1])
		if err != nil || fi.Size() == last {
			continue
		}
		last = fi.Size()
		out = append(out, impGrowth{at: time.Since(start), size: last})
	}
}

// readWAV returns the samples of a 16-bit mono WAV and the byte offset of its data chunk.
func readWAV(path string) ([]int16, int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("read recording: %w", err)
	}
	if len(raw) < 12 || string(raw[0:4]) != "RIFF" || string(raw[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%s: not a WAV file", path)
	}
	for off := 12; off+8 <= len(raw); {
		id, n := string(raw[off:off+4]), int(binary.LittleEndian.Uint32(raw[off+4:]))
		if id == "data" {
			data := raw[off+8:]
			if n < len(data) {
				data = data[:n]
			}
			s := make([]int16, len(data)/2)
			for i := range s {
				s[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
			}
			return s, int64(off + 8), nil
		}
		off += 8 + n + n%2
	}
	return nil, 0, fmt.Errorf("%s: no data chunk", path)
}

// recStart estimates when the recording's sample 0 would have been written: for each impGrowth,
// the frame being written ends at the next whole frame boundary at or after the file's size.
// The median over all growths resists a poll that came late.
func recStart(gs []impGrowth, hdr int64) (time.Duration, bool) {
	var est []float64
	for _, g := range gs {
		samples := (g.size - hdr) / 2
		if samples <= 0 {
			continue
		}
		frames := (samples + codec.FrameSamples - 1) / codec.FrameSamples
		est = append(est, float64(g.at-time.Duration(frames)*impFrame))
	}
	if len(est) == 0 {
		return 0, false
	}
	sort.Float64s(est)
	return time.Duration(est[len(est)/2]), true
}

// playout is what one receiver played, block by block.
type playout struct {
	frameAt   map[int]int // frame -> first block that played it
	wrong     int         // blocks that replayed a frame or played one out of order
	concealed int         // blocks between the first and last frame that matched nothing but carry sound
	silent    int         // blocks in the same span that are (near) silence: gaps not concealed
	blocks    int         // blocks from the first matched to the last matched
}

// analyse finds, for each 160-sample block of the recording (aligned at offset align), which
// sent frame it is: the candidate near the expected one with the highest normalised
// correlation above 0.9.
func analyse(rec []int16, pcm [][]int16) (playout, int) {
	align := bestAlign(rec, pcm)
	p := playout{frameAt: map[int]int{}}
	expect, last, first, lastBlock := 0, -1, -1, -1
	kinds := []int{} // per block: -1 silence, -2 sound, else frame
	for i := 0; align+(i+1)*codec.FrameSamples <= len(rec); i++ {
		blk := rec[align+i*codec.FrameSamples : align+(i+1)*codec.FrameSamples]
		m, c := matchFrameCorr(blk, pcm, expect-15, expect+40)
		if m < 0 && first < 0 {
			m, c = matchFrameCorr(blk, pcm, 0, len(pcm)) // not started: search everything
		}
		if m >= 0 && m <= last && c < 0.995 {
			// Concealment continues the last frame's tone, so it resembles that frame; a
			// real replay of a decoded packet is sample-exact.
			m = -1
		}
		switch {
		case m >= 0:
			if first < 0 {
				first = i
			}
			lastBlock = i
			if _, seen := p.frameAt[m]; seen || m <= last {
				p.wrong++
			} else {
				p.frameAt[m] = i
			}
			last = max(last, m)
			expect = m + 1
			kinds = append(kinds, m)
		case impEnergy(blk) < 100:
			kinds = append(kinds, -1)
			expect++
		default:
			kinds = append(kinds, -2)
			expect++
		}
	}
	if first >= 0 {
		p.blocks = lastBlock - first + 1
		for _, k := range kinds[first : lastBlock+1] {
			switch k {
			case -1:
				p.silent++
			case -2:
				p.concealed++
			}
		}
	}
	return p, align
}

// bestAlign is the sample offset (0–159) at which the most blocks of the first 10 s match.
func bestAlign(rec []int16, pcm [][]int16) int {
	best, bestN := 0, -1
	limit := min(len(rec), 10*codec.SampleRate)
	for off := 0; off < codec.FrameSamples; off += 4 {
		n := 0
		for i := 0; off+(i+1)*codec.FrameSamples <= limit; i += 5 {
			if matchFrame(rec[off+i*codec.FrameSamples:off+(i+1)*codec.FrameSamples], pcm, 0, min(len(pcm), 600)) >= 0 {
				n++
			}
		}
		if n > bestN {
			best, bestN = off, n
		}
	}
	// Refine to the exact sample around the coarse best.
	for off := max(0, best-3); off <= min(codec.FrameSamples-1, best+3); off++ {
		n := 0
		for i := 0; off+(i+1)*codec.FrameSamples <= limit; i += 5 {
			if matchFrame(rec[off+i*codec.FrameSamples:off+(i+1)*codec.FrameSamples], pcm, 0, min(len(pcm), 600)) >= 0 {
				n++
			}
		}
		if n > bestN {
			best, bestN = off, n
		}
	}
	return best
}

func matchFrame(blk []int16, pcm [][]int16, lo, hi int) int {
	m, _ := matchFrameCorr(blk, pcm, lo, hi)
	return m
}

// matchFrameCorr is the best-correlated frame in [lo, hi) above 0.9, and the correlation.
func matchFrameCorr(blk []int16, pcm [][]int16, lo, hi int) (int, float64) {
	lo, hi = max(lo, 0), min(hi, len(pcm))
	best, bestC := -1, 0.9
	eb := impEnergy(blk)
	if eb < 100 {
		return -1, 0
	}
	for m := lo; m < hi; m++ {
		var dot, ep float64
		for i, v := range pcm[m] {
			dot += float64(v) * float64(blk[i])
			ep += float64(v) * float64(v)
		}
		if c := dot / math.Sqrt(ep*eb*float64(len(blk))); c > bestC {
			best, bestC = m, c
		}
	}
	return best, bestC
}

// impEnergy is the mean square of a block.
func impEnergy(blk []int16) float64 {
	var e float64
	for _, v := range blk {
		e += float64(v) * float64(v)
	}
	return e / float64(len(blk))
}

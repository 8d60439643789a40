package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/dialtone/dialtone/codec"
)

// impResult is one receiver's figures for one run.
type impResult struct {
	name                  string
	delayMedian, delayP95 float64 // ms each played frame waited after its first copy arrived
	addedMedian, addedP95 float64 // ms each played frame played later than the fastest possible arrival
	jitterP95             float64 // ms, the network's: delay above the fastest delivered frame
	missing               float64 // % of sent frames never played
	late                  float64 // % of delivered frames never played
	wrong                 float64 // % of played blocks that replayed a frame or went backwards
	silent, concealed     int     // blocks inside the stream left silent / concealed
	series                [][2]float64
	delays, added, jitter []float64
}

// measure maps a recording onto the schedule. A frame played at block i (of the aligned
// recording) left for the "speaker" when block i's write finished: recStart + (i+1) frames.
//
// When the file grows frame by frame (baresip's sndfile writes each decoded frame at once),
// each block's own write time is used instead: baresip writes what its jitter buffer hands
// the decoder, as packets arrive, not at a steady playout pace.
func measure(name, path string, gs []impGrowth, im *impairment, arr []time.Duration, pcm [][]int16) (impResult, error) {
	rec, hdr, err := readWAV(path)
	if err != nil {
		return impResult{}, err
	}
	r0, ok := recStart(gs, hdr)
	if !ok {
		return impResult{}, fmt.Errorf("%s: the recording %s never grew while the stream ran", name, path)
	}
	p, align := analyse(rec, pcm)
	res := impResult{name: name, jitter: im.jitters()}
	fine := frameByFrame(gs)
	res.jitterP95 = impPercentile(res.jitter, 0.95)
	// The last second of frames may be cut by the BYE: count up to the last frame played.
	lastPlayed := -1
	for m := range p.frameAt {
		lastPlayed = max(lastPlayed, m)
	}
	sent, delivered, miss, late := 0, 0, 0, 0
	for m := 0; m <= lastPlayed; m++ {
		sent++
		i, played := p.frameAt[m]
		if !im.lost[m] {
			delivered++
			if !played {
				late++
			}
		}
		if !played {
			miss++
			continue
		}
		at := r0 + time.Duration(align)*time.Second/codec.SampleRate + time.Duration(i+1)*impFrame
		if fine {
			at = writtenAt(gs, hdr+int64(2*(align+(i+1)*codec.FrameSamples)))
		}
		d := impMS(at - arr[m])
		res.delays = append(res.delays, d)
		// Added delay: beyond the fastest the network could have delivered this frame.
		a := d + impMS(im.delay[m]-impBaseDelay)
		res.added = append(res.added, a)
		res.series = append(res.series, [2]float64{impMS(arr[m]) / 1000, a})
	}
	if sent == 0 || delivered == 0 {
		return impResult{}, fmt.Errorf("%s: no frame of the stream found in %s (%d samples)", name, path, len(rec))
	}
	res.delayMedian = impPercentile(res.delays, 0.5)
	res.delayP95 = impPercentile(res.delays, 0.95)
	res.addedMedian = impPercentile(res.added, 0.5)
	res.addedP95 = impPercentile(res.added, 0.95)
	res.missing = 100 * float64(miss) / float64(sent)
	res.late = 100 * float64(late) / float64(delivered)
	res.wrong = 100 * float64(p.wrong) / float64(max(1, p.blocks))
	res.silent, res.concealed = p.silent, p.concealed
	return res, nil
}

// frameByFrame: the recording grew in steps of at most two frames (no big write buffer).
func frameByFrame(gs []impGrowth) bool {
	big := 0
	for i := 1; i < len(gs); i++ {
		if gs[i].size-gs[i-1].size > 4*codec.FrameSamples {
			big++
		}
	}
	return len(gs) > 10 && big < len(gs)/10
}

// writtenAt is when the file first reached size bytes.
func writtenAt(gs []impGrowth, size int64) time.Duration {
	i := sort.Search(len(gs), func(i int) bool { return gs[i].size >= size })
	if i == len(gs) {
		return gs[len(gs)-1].at
	}
	return gs[i].at
}

func impPercentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// writePlots writes jitter-delay.svg (each played frame's wait over the call, per receiver,
// with the network's added delay) and jitter-cdf.svg (the distributions) into dir.
func writePlots(dir string, res []impResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	colors := []string{"#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"}
	label := func(name string) string {
		if name == "baresip" {
			// sndfile records what baresip decodes, before its own playout buffer.
			return "baresip (at its decoder, before its playout buffer)"
		}
		return name
	}
	var ts []svgSeries
	for i, r := range res {
		ts = append(ts, svgSeries{name: label(r.name), color: colors[i], pts: r.series, dots: true})
	}
	tp := svgPlot{title: "Added playout delay per frame (20 ms + 0–40 ms jitter, 3 % bursty loss)",
		xlabel: "time in call (s)", ylabel: "played after fastest possible arrival (ms)", series: ts}
	var cs []svgSeries
	for i, r := range res {
		cs = append(cs, svgSeries{name: label(r.name), color: colors[i], pts: impCDF(r.added)})
	}
	cs = append(cs, svgSeries{name: "network jitter (delay above fastest)", color: "#7f7f7f", pts: impCDF(res[0].jitter)})
	cp := svgPlot{title: "CDF of added playout delay and of network jitter", xlabel: "ms", ylabel: "fraction of frames", series: cs}
	for name, p := range map[string]svgPlot{"jitter-delay.svg": tp, "jitter-cdf.svg": cp} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(p.render()), 0o644); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
	}
	return nil
}

func impCDF(v []float64) [][2]float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	out := make([][2]float64, len(s))
	for i, x := range s {
		out[i] = [2]float64{x, float64(i+1) / float64(len(s))}
	}
	return out
}

// A small SVG line/scatter plot writer: two plots do not justify a plotting dependency.
type svgSeries struct {
	name  string
	color string
	pts   [][2]float64
	dots  bool
}

type svgPlot struct {
	title, xlabel, ylabel string
	series                []svgSeries
}

func (p svgPlot) render() string {
	const w, h, l, r, t, bm = 800.0, 480.0, 70.0, 20.0, 40.0, 60.0
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), 0.0, math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.pts {
			x0, x1, y1 = min(x0, pt[0]), max(x1, pt[0]), max(y1, pt[1])
		}
	}
	x0 = min(x0, 0)
	if x1 <= x0 {
		x1 = x0 + 1
	}
	y1 = niceCeil(y1)
	x1 = niceCeil(x1)
	px := func(x float64) float64 { return l + (x-x0)/(x1-x0)*(w-l-r) }
	py := func(y float64) float64 { return h - bm - (y-y0)/(y1-y0)*(h-t-bm) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&sb, `<rect width="100%%" height="100%%" fill="white"/><text x="%g" y="20" text-anchor="middle" font-size="14">%s</text>`+"\n", w/2, p.title)
	for i := 0; i <= 5; i++ {
		xv, yv := x0+(x1-x0)*float64(i)/5, y0+(y1-y0)*float64(i)/5
		fmt.Fprintf(&sb, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#ddd"/><text x="%.1f" y="%g" text-anchor="middle">%g</text>`+"\n",
			px(xv), t, px(xv), h-bm, px(xv), h-bm+16, round2(xv))
		fmt.Fprintf(&sb, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%g</text>`+"\n",
			l, py(yv), w-r, py(yv), l-6, py(yv)+4, round2(yv))
	}
	fmt.Fprintf(&sb, `<text x="%g" y="%g" text-anchor="middle">%s</text>`+"\n", (l+w-r)/2, h-15, p.xlabel)
	fmt.Fprintf(&sb, `<text transform="translate(18 %g) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (t+h-bm)/2, p.ylabel)
	for i, s := range p.series {
		if s.dots {
			for _, pt := range s.pts {
				fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="1.3" fill="%s" fill-opacity="0.6"/>`, px(pt[0]), py(pt[1]), s.color)
			}
			sb.WriteString("\n")
		} else {
			fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="`, s.color)
			for _, pt := range s.pts {
				fmt.Fprintf(&sb, "%.1f,%.1f ", px(pt[0]), py(pt[1]))
			}
			sb.WriteString("\"/>\n")
		}
		fmt.Fprintf(&sb, `<rect x="%g" y="%d" width="12" height="12" fill="%s"/><text x="%g" y="%d">%s</text>`+"\n",
			l+10, int(t)+6+18*i, s.color, l+28, int(t)+16+18*i, s.name)
	}
	sb.WriteString("</svg>\n")
	return sb.String()
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	m := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if v <= f*m {
			return f * m
		}
	}
	return 10 * m
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

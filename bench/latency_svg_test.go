package bench

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// writeLatencySVG plots the per-click one-way delay of dialtone and of the dialtone → baresip
// → dialtone loop minus dialtone's one-way median (baresip's one-way share) as a small
// hand-written SVG: one dot per click, a dashed line at the 40 ms target.
func writeLatencySVG(path string, ours, loop []time.Duration, shift float64) error {
	const w, h, left, bottom, top = 640, 320, 50, 40, 20
	series := []struct {
		name, colour string
		ms           []float64
	}{{"dialtone one-way", "#1f77b4", nil}, {"baresip one-way (loop − dialtone)", "#d62728", nil}}
	for _, d := range ours {
		series[0].ms = append(series[0].ms, latMS(d))
	}
	for _, d := range loop {
		series[1].ms = append(series[1].ms, latMS(d)+shift)
	}
	maxY := 50.0
	n := 1
	for _, s := range series {
		if len(s.ms) > 0 {
			maxY = max(maxY, slices.Max(s.ms)*1.1)
		}
		n = max(n, len(s.ms))
	}
	x := func(i int) float64 { return left + float64(i)*float64(w-left-10)/float64(max(n-1, 1)) }
	y := func(v float64) float64 { return float64(h-bottom) - v*float64(h-bottom-top)/maxY }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, h-bottom, w-10, h-bottom)
	fmt.Fprintf(&sb, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for v := 0.0; v <= maxY; v += 20 {
		fmt.Fprintf(&sb, `<text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-5, y(v)+4, v)
	}
	fmt.Fprintf(&sb, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="grey" stroke-dasharray="4 4"/>`+"\n", left, y(40), w-10, y(40))
	fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="middle">click</text>`+"\n", (w+left)/2, h-8)
	fmt.Fprintf(&sb, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">mouth-to-ear ms</text>`+"\n", h/2, h/2)
	for k, s := range series {
		for i, v := range s.ms {
			fmt.Fprintf(&sb, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(i), y(v), s.colour)
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", left+10, top+14*(k+1), s.colour, s.name)
	}
	sb.WriteString("</svg>\n")
	return os.WriteFile(path, []byte(sb.String()), 0o644)
}

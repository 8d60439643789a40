package main

import (
	"time"

	"github.com/dialtone/dialtone/phone/media"
)

// loadPacer is the shared media pacer's send lateness over the run: how late after its 20 ms
// deadline each frame left, across every call of this process.
type loadPacer struct {
	Frames   uint64  `json:"frames"`
	LateP50  float64 `json:"late_p50_ms"`
	LateP99  float64 `json:"late_p99_ms"`
	LateMax  float64 `json:"late_max_ms"`
	Overruns uint64  `json:"overruns"` // ticks whose work took longer than a frame
}

// readPacer returns the pacer's figures for the whole process life; nil when it paced no
// frame (every call failed, or media ran on test clocks).
func readPacer() *loadPacer {
	st := media.ReadPacerStats()
	if st.Frames == 0 {
		return nil
	}
	ms := func(d time.Duration) float64 { return round3(durMs(d)) }
	return &loadPacer{Frames: st.Frames, LateP50: ms(st.LateP50), LateP99: ms(st.LateP99), LateMax: ms(st.LateMax), Overruns: st.Overruns}
}

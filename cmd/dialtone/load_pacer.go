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
	// Steady is the same while every call was up (from the last answer to the first hang-up);
	// absent when they never all were.
	Steady *loadSteady `json:"steady,omitempty"`
}

// loadSteady is the pacer's lateness over the steady state alone: no call set-up or
// tear-down in it.
type loadSteady struct {
	Seconds float64 `json:"seconds"`
	Frames  uint64  `json:"frames"`
	LateP50 float64 `json:"late_p50_ms"`
	LateP99 float64 `json:"late_p99_ms"`
}

// steadyWindow marks the pacer's record when every call is up and reads it when the first
// ends.
type steadyWindow struct {
	mark    media.PacerMark
	started time.Time
	done    *loadSteady
}

func (w *steadyWindow) begin() {
	if w.started.IsZero() {
		w.mark, w.started = media.MarkPacer(), time.Now()
	}
}

func (w *steadyWindow) end() {
	if w.started.IsZero() || w.done != nil {
		return
	}
	frames, p50, p99 := w.mark.Since()
	w.done = &loadSteady{Seconds: round3(time.Since(w.started).Seconds()), Frames: frames, LateP50: round3(durMs(p50)), LateP99: round3(durMs(p99))}
}

// result is the window's figures, nil when it never began or saw no frame.
func (w *steadyWindow) result() *loadSteady {
	if w.done == nil || w.done.Frames == 0 {
		return nil
	}
	return w.done
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

package main

// loadPacer is the shared media pacer's send lateness over the run: how late after its 20 ms
// deadline each frame left, across every call of this process.
type loadPacer struct {
	Sessions int     `json:"sessions"`
	Frames   uint64  `json:"frames"`
	LateP50  float64 `json:"late_p50_ms"`
	LateP99  float64 `json:"late_p99_ms"`
	LateMax  float64 `json:"late_max_ms"`
	Overruns uint64  `json:"overruns"`
}

// readPacer returns the pacer's figures, nil while phone/media has no shared pacer to ask.
func readPacer() *loadPacer { return nil }

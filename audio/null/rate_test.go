package null

import "testing"

// TestSetRate: the null devices take any call rate and then move frames of its length.
func TestSetRate(t *testing.T) {
	var src Source
	var snk Sink
	for _, hz := range []int{8000, 16000, 48000} {
		if err := src.SetRate(hz); err != nil {
			t.Fatal(err)
		}
		if err := snk.SetRate(hz); err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, hz/50)
		frame[0] = 1
		if err := src.Read(frame); err != nil || frame[0] != 0 {
			t.Fatalf("%d Hz: read %v, first sample %d", hz, err, frame[0])
		}
		if err := snk.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if snk.Frames() != 3 {
		t.Fatalf("%d frames counted, want 3", snk.Frames())
	}
	if src.SetRate(0) == nil || snk.SetRate(-1) == nil {
		t.Fatal("a nonsense rate was accepted")
	}
}

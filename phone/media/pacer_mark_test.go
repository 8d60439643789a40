package media

import (
	"testing"
	"time"
)

// TestPacerMarkCountsOnlyWhatFollows: frames recorded before a mark do not count in Since;
// those after do, with their own percentiles.
func TestPacerMarkCountsOnlyWhatFollows(t *testing.T) {
	ps := new(pacerStats)
	for range 100 {
		ps.late[0].record(50 * time.Millisecond) // before the mark: late
	}
	m := ps.mark()
	for i := range 99 {
		ps.late[i%2].record(100 * time.Microsecond)
	}
	ps.late[1].record(2 * time.Millisecond)
	frames, p50, p99 := m.Since()
	if frames != 100 {
		t.Fatalf("%d frames since the mark, want 100", frames)
	}
	if p50 < 100*time.Microsecond || p50 > 104*time.Microsecond || p99 < 100*time.Microsecond || p99 > 104*time.Microsecond {
		t.Fatalf("since the mark p50 %v p99 %v, want about 100µs (the 50 ms frames came before it)", p50, p99)
	}
	if f, _, after := ps.mark().Since(); f != 0 || after != 0 {
		t.Fatalf("%d frames, p99 %v over nothing, want none", f, after)
	}
	if f, _, _ := (PacerMark{}).Since(); f != 0 {
		t.Fatal("the zero mark counts frames")
	}
}

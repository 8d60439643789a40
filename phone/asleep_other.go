//go:build !linux

package phone

import "time"

// markStart is what markNow measures the monotonic clock from.
var markStart = time.Now()

// markNow reads the wall clock, which runs on in a suspend, and Go's monotonic clock, which
// stops on most systems; a wall clock set forward is taken for a sleep too (one REGISTER).
func markNow() wakeMark {
	return wakeMark{boot: time.Duration(time.Now().UnixNano()), mono: time.Since(markStart)}
}

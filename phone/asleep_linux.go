package phone

import (
	"time"

	"golang.org/x/sys/unix"
)

// markNow reads CLOCK_BOOTTIME, which counts a suspend, and CLOCK_MONOTONIC, which does not;
// neither moves when the wall clock is set, so an NTP step is not taken for a sleep.
func markNow() wakeMark {
	var boot, mono unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono) != nil {
		return wakeMark{} // both zero: no sleep is ever seen
	}
	return wakeMark{boot: time.Duration(boot.Nano()), mono: time.Duration(mono.Nano())}
}

package media

import (
	"encoding/binary"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestArrivalStampIsMonotonic: a datagram's kernel stamp (wall clock) comes out on Go's
// monotonic clock, at the same instant: the jitter buffer subtracts it from the pacer's times,
// which carry a monotonic reading, and a wall-clock-only stamp made that subtraction follow
// every step of the wall clock (an NTP step, a suspend) for the rest of the pacer's run.
func TestArrivalStampIsMonotonic(t *testing.T) {
	ago := time.Now().Add(-5 * time.Millisecond)
	ts := syscall.NsecToTimespec(ago.UnixNano())
	hdrLen := syscall.CmsgLen(0)
	ctrl := make([]byte, syscall.CmsgSpace(int(unsafe.Sizeof(ts))))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
	h.SetLen(syscall.CmsgLen(int(unsafe.Sizeof(ts))))
	binary.NativeEndian.PutUint64(ctrl[hdrLen:], uint64(ts.Sec))
	binary.NativeEndian.PutUint64(ctrl[hdrLen+8:], uint64(ts.Nsec))
	at := stampOf(ctrl)
	if !strings.Contains(at.String(), " m=") {
		t.Fatalf("arrival %v has no monotonic reading", at)
	}
	if d := at.Sub(ago); d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("arrival %v, stamped %v: %v apart", at, ago, d)
	}
	if none := stampOf(nil); !strings.Contains(none.String(), " m=") {
		t.Fatalf("no stamp: %v has no monotonic reading", none)
	}
}

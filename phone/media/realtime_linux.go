package media

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Under a large load (a tick split among the workers: more than minPacerShare sessions on a
// phase) the pacer's goroutines ask for real-time scheduling: each locks itself to its thread
// and makes the thread SCHED_FIFO at realtimePriority. A frame is late when the tick that
// sends it waits for a processor; under the ordinary scheduler it waits behind whatever else
// the machine runs (another busy process took it 10–40 ms at times, BenchmarkScale), while a
// real-time thread takes the processor as soon as it wakes, and blocks again within a few
// milliseconds: a tick's share, then the timer. It is what PulseAudio (through rtkit) and
// JACK do for their audio threads. A system that refuses (no CAP_SYS_NICE, RLIMIT_RTPRIO 0:
// most desktop users) leaves the pacer as it was. A handful of calls never ask: their tick
// runs on the timer's goroutine, which a locked thread would cost a thread switch per tick.
//
// The kernel bounds real-time threads (sched_rt_runtime_us: 95 % of each second by default),
// so a runaway pacer cannot freeze the machine. A promoted goroutine demotes its thread before
// it ends (demoteThread), so no other goroutine ever runs real-time. (Ending locked would not
// do: the runtime ends such a thread, except the main thread, which it parks for good, still
// real-time.)

// realtimePriority is PulseAudio's default for its real-time threads: low among real-time
// priorities, above every ordinary thread.
const realtimePriority = 5

const (
	schedOther = 0
	schedFIFO  = 1
)

// promoteThread locks the calling goroutine to its thread and makes the thread SCHED_FIFO.
// If the system refuses, the goroutine is unlocked again and false returned.
func promoteThread() bool {
	runtime.LockOSThread()
	param := struct{ priority int32 }{realtimePriority}
	// pid 0: the calling thread (Linux schedules threads, not processes).
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedFIFO, uintptr(unsafe.Pointer(&param))); e != 0 {
		runtime.UnlockOSThread()
		return false
	}
	return true
}

// demoteThread undoes promoteThread: the thread back to the ordinary scheduler, the
// goroutine unlocked. Lowering one's own priority is always allowed.
func demoteThread() {
	param := struct{ priority int32 }{0}
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedOther, uintptr(unsafe.Pointer(&param)))
	runtime.UnlockOSThread()
}

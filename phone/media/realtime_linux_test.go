package media

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// refusedEnv makes TestPacerRealtimeUnderLoad require that the system refuses real-time
// scheduling: TestPacerRealtimeRefused runs it so, with neither CAP_SYS_NICE nor RLIMIT_RTPRIO.
const refusedEnv = "DIALTONE_TEST_REALTIME_REFUSED"

// TestPacerRealtimeUnderLoad: a few sessions leave the pacer's threads as they are; enough
// sessions to split a tick among the workers make the pacer's goroutines ask for SCHED_FIFO,
// which they get where the system allows it (CI runs as root) and do without where it does
// not; and once the last session has gone no thread of the process is left real-time (the
// locked threads ended with their goroutines).
func TestPacerRealtimeUnderLoad(t *testing.T) {
	if !sharedPacerWorks() {
		t.Skip("no shared pacer on this system (timerfd is Linux only)")
	}
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("GOMAXPROCS is 1: the pacer has no workers to split a tick among, so it never asks")
	}
	if st := ReadPacerStats(); st.Sessions != 0 {
		t.Fatalf("the shared pacer paces %d sessions already", st.Sessions)
	}
	allowed := realtimeAllowed()
	if os.Getenv(refusedEnv) != "" && allowed {
		t.Fatalf("%s is set, but this process may use real-time scheduling", refusedEnv)
	}
	before := ReadPacerStats().Realtime

	few := pairedSessions(t, 8, false)
	for _, s := range few {
		s.Start(s.current())
	}
	time.Sleep(10 * frameDur)
	if st := ReadPacerStats(); st.Realtime != before || realtimeThreads(t) != 0 {
		t.Fatalf("8 sessions: %d pacer threads asked for real-time scheduling, %d threads are SCHED_FIFO; want none",
			st.Realtime-before, realtimeThreads(t))
	}
	// Every phase over minPacerShare: each tick is split among the workers.
	many := pairedSessions(t, phases*(minPacerShare+8), false)
	for _, s := range many {
		s.Start(s.current())
	}
	deadline := time.Now().Add(5 * time.Second)
	for allowed && ReadPacerStats().Realtime-before < 2 && time.Now().Before(deadline) {
		time.Sleep(frameDur)
	}
	time.Sleep(5 * frameDur)
	got, fifo := ReadPacerStats().Realtime-before, realtimeThreads(t)
	t.Logf("%d sessions: real-time scheduling allowed %v; %d pacer threads promoted, %d threads SCHED_FIFO",
		len(few)+len(many), allowed, got, fifo)
	switch {
	case allowed && (got < 2 || fifo < 2):
		t.Errorf("real-time allowed, but %d pacer threads promoted and %d SCHED_FIFO; want the tick goroutine's and a worker's at least", got, fifo)
	case !allowed && (got != 0 || fifo != 0):
		t.Errorf("real-time refused, yet %d promoted and %d SCHED_FIFO", got, fifo)
	}
	frames := ReadPacerStats().Frames
	time.Sleep(5 * frameDur)
	if ReadPacerStats().Frames == frames {
		t.Error("the pacer sent nothing after its threads were promoted")
	}
	for _, s := range append(few, many...) {
		s.Close()
	}
	if st := ReadPacerStats(); st.Sessions != 0 {
		t.Fatalf("%d sessions still paced after closing all", st.Sessions)
	}
	if n := realtimeThreads(t); n != 0 {
		t.Errorf("after the last Close %d threads of the process are still SCHED_FIFO", n)
	}
}

// realtimeAllowed: may a thread of this process become SCHED_FIFO?
func realtimeAllowed() bool {
	if !promoteThread() {
		return false
	}
	demoteThread()
	return true
}

// realtimeThreads counts this process's threads whose policy (field 41 of
// /proc/self/task/TID/stat) is SCHED_FIFO.
func realtimeThreads(t *testing.T) int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		raw, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended meanwhile
		}
		s := string(raw)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // from field 3 on
		if len(fields) > 38 && fields[38] == "1" {
			n++
		}
	}
	return n
}

// TestPacerRealtimeRefused runs TestPacerRealtimeUnderLoad in a child process that may not use
// real-time scheduling (setpriv drops CAP_SYS_NICE, prlimit sets RLIMIT_RTPRIO to 0), as on
// a desktop without rtkit: the pacer asks, is refused, and goes on pacing every session.
func TestPacerRealtimeRefused(t *testing.T) {
	if !sharedPacerWorks() || runtime.GOMAXPROCS(0) < 2 {
		t.Skip("no shared pacer with workers here (see TestPacerRealtimeUnderLoad)")
	}
	if os.Geteuid() != 0 {
		t.Skip("dropping CAP_SYS_NICE from the bounding set needs root (TestPacerRealtimeUnderLoad covers a refusing system as it is)")
	}
	prlimit, err1 := exec.LookPath("prlimit")
	setpriv, err2 := exec.LookPath("setpriv")
	if err1 != nil || err2 != nil {
		t.Skip("prlimit and setpriv (util-linux) are needed to take real-time scheduling away")
	}
	cmd := exec.Command(prlimit, "--rtprio=0", setpriv, "--bounding-set", "-sys_nice", "--inh-caps", "-sys_nice",
		os.Args[0], "-test.run", "^TestPacerRealtimeUnderLoad$", "-test.count", "1", "-test.v", "-test.timeout", "60s")
	cmd.Env = append(os.Environ(), refusedEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("under prlimit and setpriv: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "allowed false") || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("the child did not run refused:\n%s", out)
	}
}

package interop

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// procSample is what /proc says about a process at one moment.
type procSample struct {
	At      time.Time
	RSS     int64 // VmRSS, KiB
	HWM     int64 // VmHWM: the peak RSS so far, KiB
	Threads int
	CPU     time.Duration // user + system time so far
}

// readProc reads pid's memory, threads and CPU time from /proc.
func readProc(pid int) (procSample, error) {
	s := procSample{At: time.Now()}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			s.RSS = n
		case "VmHWM":
			s.HWM = n
		case "Threads":
			s.Threads = int(n)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces, hence the last ')'): utime is
	// the 14th field of the line, stime the 15th, in clock ticks (100 a second on Linux).
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 {
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			sy, _ := strconv.ParseInt(f[12], 10, 64)
			s.CPU = time.Duration(u+sy) * 10 * time.Millisecond
		}
	}
	return s, sc.Err()
}

// procSampler reads a process's /proc figures every interval until stopped.
type procSampler struct {
	mu      sync.Mutex
	samples []procSample
	stop    chan struct{}
	done    chan struct{}
}

// sampleProc starts sampling pid; stop (also at cleanup) ends it.
func sampleProc(t *testing.T, pid int, every time.Duration) *procSampler {
	t.Helper()
	s := &procSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if ps, err := readProc(pid); err == nil && ps.RSS > 0 { // none once the process is a zombie
				s.mu.Lock()
				s.samples = append(s.samples, ps)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(s.halt)
	return s
}

func (s *procSampler) halt() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// between returns the samples taken from a to b.
func (s *procSampler) between(a, b time.Time) []procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []procSample
	for _, x := range s.samples {
		if !x.At.Before(a) && !x.At.After(b) {
			out = append(out, x)
		}
	}
	return out
}

// last is the latest sample.
func (s *procSampler) last() procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return procSample{}
	}
	return s.samples[len(s.samples)-1]
}

// peak is the highest VmHWM seen.
func (s *procSampler) peak() procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p procSample
	for _, x := range s.samples {
		if x.HWM > p.HWM {
			p = x
		}
	}
	return p
}

// mib renders KiB as MiB.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

// gcLine matches the runtime's GODEBUG=gctrace=1 line: "... A->B->C MB, D MB goal ...", where
// C is the heap still live when that collection finished marking.
var gcLine = regexp.MustCompile(`^gc \d+ @([0-9.]+)s .* (\d+)->(\d+)->(\d+) MB`)

// gcLive is one garbage collection's figure: seconds since the process started, live heap.
type gcLive struct {
	At   float64
	Live int // MB
}

// gcTrace returns the collections a process run with GODEBUG=gctrace=1 wrote to stderr.
func gcTrace(stderr string) []gcLive {
	var out []gcLive
	for _, l := range strings.Split(stderr, "\n") {
		m := gcLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		live, _ := strconv.Atoi(m[4])
		out = append(out, gcLive{At: at, Live: live})
	}
	return out
}

// stderrText is what the process wrote to stderr so far.
func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

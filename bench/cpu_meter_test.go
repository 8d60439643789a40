package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cpuMeter follows one running process's CPU time to the nanosecond while it works: the sum
// over its threads of /proc/PID/task/TID/schedstat (time on a CPU, and how many times it was
// put on one), read every cpuMeterEvery so that a thread which ends before the meter stops
// keeps its last reading. baresip runs one thread per call that ends with the call; summing
// the live threads at the end, or /proc/PID/status's switch counts, loses it.
//
// Why not /proc/PID/stat: its utime and stime are charged a whole 10 ms tick at a time to the
// thread that happens to be running when the tick comes. A softphone runs in ~100 µs bursts
// 50 times a second, on a timer that can fall in step with the tick: on 10 s of a baresip call
// the ticks said 140 ms where its threads' schedstat (and perf stat's task-clock) said 100.
type cpuMeter struct {
	pid      int
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu    sync.Mutex
	start map[string]threadCPU // each thread's reading when the meter started (zero: born later)
	last  map[string]threadCPU // each thread's latest reading
	err   error
}

// threadCPU is one schedstat reading.
type threadCPU struct {
	onCPU  time.Duration
	slices int64 // times put on a CPU: its wake-ups, near enough
}

const cpuMeterEvery = 50 * time.Millisecond

// startCPUMeter starts following pid; stop it with read (or halt). It fails when the kernel
// has no schedstat (CONFIG_SCHED_INFO), so the caller can fall back on /proc/PID/stat.
func startCPUMeter(pid int) (*cpuMeter, error) {
	m := &cpuMeter{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	first, err := m.sample()
	if err != nil {
		return nil, err
	}
	m.start, m.last = first, first
	go func() {
		defer close(m.done)
		t := time.NewTicker(cpuMeterEvery)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.update()
			}
		}
	}()
	return m, nil
}

// halt stops the meter's sampling (more than once is fine): a caller that fails before read
// defers it, so the sampler never outlives its test.
func (m *cpuMeter) halt() {
	m.stopOnce.Do(func() { close(m.stop) })
	<-m.done
}

// read stops the meter and returns the CPU time and wake-ups of pid's threads since it started.
func (m *cpuMeter) read() (time.Duration, int64, error) {
	m.halt()
	m.update()
	m.mu.Lock()
	defer m.mu.Unlock()
	var cpu time.Duration
	var wakes int64
	for tid, r := range m.last {
		s := m.start[tid]
		cpu += r.onCPU - s.onCPU
		wakes += r.slices - s.slices
	}
	return cpu, wakes, m.err
}

func (m *cpuMeter) update() {
	now, err := m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		if m.err == nil {
			m.err = err
		}
		return
	}
	last := make(map[string]threadCPU, len(m.last)+len(now))
	for tid, r := range m.last {
		last[tid] = r // ended threads keep their last reading
	}
	for tid, r := range now {
		last[tid] = r
	}
	m.last = last
}

// sample reads every live thread's schedstat.
func (m *cpuMeter) sample() (map[string]threadCPU, error) {
	dirs, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", m.pid))
	if err != nil {
		return nil, fmt.Errorf("cpu meter: %w", err)
	}
	out := make(map[string]threadCPU, len(dirs))
	for _, d := range dirs {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", m.pid, d.Name()))
		if os.IsNotExist(err) {
			continue // the thread ended meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("cpu meter: %w", err)
		}
		f := strings.Fields(string(raw))
		if len(f) < 3 {
			return nil, fmt.Errorf("cpu meter: /proc/%d/task/%s/schedstat: %q", m.pid, d.Name(), raw)
		}
		ns, err1 := strconv.ParseInt(f[0], 10, 64)
		n, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("cpu meter: /proc/%d/task/%s/schedstat: %q", m.pid, d.Name(), raw)
		}
		out[d.Name()] = threadCPU{onCPU: time.Duration(ns), slices: n}
	}
	return out, nil
}

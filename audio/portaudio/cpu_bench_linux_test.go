//go:build cgo && !noportaudio

package portaudio

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDeviceCall measures the CPU a device call costs: a Source and a Sink on the private
// PulseAudio, told the call's rate, with a frame written and one read every 20 ms as the media
// session does (b.N frames, so -benchtime=500x is 10 s of call). It reports CPU milliseconds
// per second of call in this process (PortAudio's threads, the ALSA pulse plugin, the
// resampler, Read and Write) and in the PulseAudio server (which resamples whatever we do not:
// its null sinks run at 44.1 kHz). "before" opens the device at 8 kHz mono with the generic
// resampler, as dialtone did until devices carried wideband; "after" is what it does now.
func BenchmarkDeviceCall(b *testing.B) {
	if checkptrBreaksStreams && !checkptrOff() {
		b.Skip("-race enables checkptr, which aborts inside gordonklaus/portaudio on the second stream")
	}
	for _, how := range []struct {
		name    string
		mode    openMode
		generic bool
	}{{"before", openNarrow, true}, {"after", openWide, false}} {
		for _, rate := range []int{8000, 16000, 48000} {
			b.Run(fmt.Sprintf("%s/%d", how.name, rate), func(b *testing.B) {
				testOpenMode = how.mode
				defer func() { testOpenMode = openWide }()
				benchDeviceCall(b, rate, how.generic)
			})
		}
	}
}

func benchDeviceCall(b *testing.B, rate int, generic bool) {
	p := startPulse(b)
	b.Setenv("PULSE_SINK", "dt_play")
	b.Setenv("PULSE_SOURCE", "dt_capture.monitor")
	be, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	in, err := be.OpenSource("")
	if err != nil {
		b.Fatal(err)
	}
	out, err := be.OpenSink("")
	if err != nil {
		b.Fatal(err)
	}
	src, snk := in.(*Source), out.(*Sink)
	if err := src.SetRate(rate); err != nil {
		b.Fatal(err)
	}
	if err := snk.SetRate(rate); err != nil {
		b.Fatal(err)
	}
	if generic { // the resampler as it was: no polyphase tables
		src.s.capMu.Lock()
		if src.s.rs != nil {
			src.s.rs.poly = nil
		}
		src.s.capMu.Unlock()
		snk.mu.Lock()
		if snk.rs != nil {
			snk.rs.poly = nil
		}
		snk.mu.Unlock()
	}
	frame := make([]int16, rate/50)
	for i := range frame {
		frame[i] = int16(i * 97)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	step := func() {
		<-tick.C
		if err := snk.Write(frame); err != nil {
			b.Fatal(err)
		}
		if err := src.Read(frame); err != nil {
			b.Fatal(err)
		}
	}
	for range 50 { // 1 s to settle
		step()
	}
	self0, srv0 := selfCPU(b), procCPU(b, p.pid)
	start := time.Now()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.StopTimer()
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(selfCPU(b)-self0)/float64(time.Millisecond)/secs, "self-cpu-ms/s")
	b.ReportMetric(float64(procCPU(b, p.pid)-srv0)/float64(time.Millisecond)/secs, "pulse-cpu-ms/s")
	b.Logf("device %g Hz × %d, call %d Hz: %+v / %+v", snk.s.rate, snk.s.channels, rate, src.Stats(), snk.Stats())
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is process pid's user+system CPU time so far (/proc/pid/stat, in clock ticks).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:])) // fields from 3 on
	ut, err1 := strconv.ParseInt(f[11], 10, 64)                                  // field 14
	st, err2 := strconv.ParseInt(f[12], 10, 64)                                  // field 15
	if err1 != nil || err2 != nil {
		b.Fatalf("parse /proc/%d/stat: %v %v", pid, err1, err2)
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}

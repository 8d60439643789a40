package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// profileEnv names a file to write a CPU profile of the whole process to (go tool pprof
// reads it), traceEnv one for an execution trace (go tool trace: which goroutine ran when,
// on which thread, and what woke it). They are for measuring, not for users: environment
// variables rather than flags so they work the same under every subcommand and show in no
// help text.
const (
	profileEnv = "DIALTONE_CPUPROFILE"
	traceEnv   = "DIALTONE_TRACE"
)

// startProfile starts the CPU profile and the execution trace that the environment asks for
// and returns what stops them and writes their files; main calls that before exiting
// (os.Exit runs no deferred calls).
func startProfile() func() {
	stopProfile := startRecording(profileEnv, pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startRecording(traceEnv, trace.Start, trace.Stop)
	return func() {
		stopTrace()
		stopProfile()
	}
}

// startRecording creates the file named by env, if set, and starts writing to it.
func startRecording(env string, start func(w io.Writer) error, stop func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", env, err)
		return func() {}
	}
	if err := start(f); err != nil {
		fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", env, err)
		f.Close()
		return func() {}
	}
	return func() {
		stop()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", env, err)
		}
	}
}

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the whole process to (go tool pprof
// reads it). It is for measuring, not for users: an environment variable rather than a flag
// so it works the same under every subcommand and shows in no help text.
const profileEnv = "DIALTONE_CPUPROFILE"

// startProfile starts CPU profiling when DIALTONE_CPUPROFILE is set and returns what stops it
// and writes the file; main calls that before exiting (os.Exit runs no deferred calls).
func startProfile() func() {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", profileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", profileEnv, err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "dialtone: %s: %v\n", profileEnv, err)
		}
	}
}

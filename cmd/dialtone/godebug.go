// Runtime settings of the dialtone binary.
//
// updatemaxprocs=0: since Go 1.25 the runtime's sysmon thread re-reads the cgroup CPU limit
// and the CPU affinity (two system calls and a file read) at most once a second, on each of
// its wake-ups. During a call sysmon wakes about ten times a second, so that work came every
// second of every call, for a GOMAXPROCS that a softphone has no reason to change while it
// runs (GOMAXPROCS is still taken from the limits at start-up, or from the environment).
//go:debug updatemaxprocs=0

package main

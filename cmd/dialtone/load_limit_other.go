//go:build !unix

package main

// checkFileLimit has no limit to check where there is no RLIMIT_NOFILE.
func checkFileLimit(int) error { return nil }

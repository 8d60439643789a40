//go:build !linux

package main

// trimStartupPages is Linux's (trim_linux.go); elsewhere there is nothing to do.
func trimStartupPages() {}

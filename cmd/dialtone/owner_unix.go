//go:build !windows

package main

import (
	"os"
	"syscall"
)

// ownedByUs says whether a file belongs to the user running dialtone.
func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

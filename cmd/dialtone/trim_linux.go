package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// trimStartupPages gives back the mappings of start-up code and data once a long-running
// command has settled. Most of an idle dialtone's resident memory was its own executable and
// shared libraries (19 of 25 MB headless): the kernel maps page-cache pages in large folios,
// so the start-up work alone (package initialisers, building the command line, the first
// registration) left nearly the whole 9 MB of code mapped. MADV_DONTNEED on a private file
// mapping only drops our page-table entries: the pages stay in the page cache and come back
// on the next touch, so what stays resident is what the idle phone actually uses.
//
// Only read-only mappings of files holding no page of our own (smaps "Anonymous: 0 kB") are
// trimmed: a read-only page that was written before it was made read-only (RELRO after
// relocation) exists nowhere else, and dropping it would lose it.
func trimStartupPages() {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	// Read a line at a time from a small buffer: the file is ~90 KB, and reading it whole
	// left ~0.6 MB more heap resident than the trimming saved in pages of the heap itself.
	r := bufio.NewReaderSize(f, 4096)
	var lo, hi uintptr
	ok := false
	flush := func() {
		if ok && hi > lo {
			_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, syscall.MADV_DONTNEED)
		}
		ok = false
	}
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if l, h, perms, path, isHeader := smapsHeader(line); isHeader {
				flush() // the previous mapping is complete: its Anonymous line came before this
				// A file ("/..."), private, not writable.
				lo, hi = l, h
				ok = len(path) > 0 && path[0] == '/' && perms[1] == '-' && perms[3] == 'p'
			} else if v, found := bytes.CutPrefix(line, []byte("Anonymous:")); found && string(bytes.TrimSpace(v)) != "0 kB" {
				ok = false
			}
		}
		if err != nil { // io.EOF, or a line too long for the buffer (none is, in smaps)
			break
		}
	}
	flush()
}

// smapsHeader parses a mapping's first line in /proc/PID/smaps,
// "lo-hi perms offset dev inode [path]".
func smapsHeader(line []byte) (lo, hi uintptr, perms, path []byte, ok bool) {
	f := bytes.Fields(line)
	if len(f) < 5 || len(f[1]) != 4 {
		return 0, 0, nil, nil, false
	}
	l, h, found := bytes.Cut(f[0], []byte("-"))
	if !found {
		return 0, 0, nil, nil, false
	}
	a, err1 := strconv.ParseUint(string(l), 16, 64)
	b, err2 := strconv.ParseUint(string(h), 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, nil, nil, false
	}
	if len(f) >= 6 {
		path = f[5]
	}
	return uintptr(a), uintptr(b), f[1], path, true
}

package main

import "os"

// ownedByUs: Windows has no owner uid in a file's mode; the control socket's directory is
// only trusted under XDG_RUNTIME_DIR or --control there (its fallback in the shared temp
// directory is refused), which keeps the release build for windows_amd64 compiling.
func ownedByUs(os.FileInfo) bool { return false }

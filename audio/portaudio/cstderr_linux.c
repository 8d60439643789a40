//go:build cgo && !noportaudio

// See captureCStderr in cstderr_linux.go.

#include <stdio.h>

// dtRedirectCStderr points the C library's stderr stream (not file descriptor 2) at fd, line
// buffered. glibc documents stdin, stdout and stderr as ordinary variables a program may set.
int dtRedirectCStderr(int fd) {
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		return -1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	fflush(stderr);
	stderr = f;
	return 0;
}

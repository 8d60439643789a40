//go:build cgo && !noportaudio

// Replacement error hooks for ALSA and JACK; see silenceLibraries in libhooks_linux.go.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "_cgo_export.h"

// ALSA's snd_lib_error_handler_t.
static void dt_alsa_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
	char msg[512];
	int n = snprintf(msg, sizeof msg, "%s:%d:(%s) ", file, line, function);
	if (n < 0 || n >= (int)sizeof msg) {
		n = 0;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - n, fmt, ap);
	va_end(ap);
	if (err != 0) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, " (error %d)", err);
	}
	dtLibraryMessage("alsa", msg);
}

static void dt_jack_message(const char *msg) {
	dtLibraryMessage("jack", (char *)msg);
}

typedef void (*alsa_handler)(const char *, int, const char *, int, const char *, ...);
typedef int (*alsa_set_handler)(alsa_handler);
typedef void (*jack_set_function)(void (*)(const char *));

// dtSilenceLibraries installs the hooks. It runs before the first Pa_Initialize: PortAudio's
// JACK host API then replaces the JACK error hook with its own (which keeps the text for its
// error reports and prints nothing), and that is fine.
void dtSilenceLibraries(void) {
	alsa_set_handler alsa = (alsa_set_handler)dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (alsa != NULL) {
		alsa(dt_alsa_error);
	}
	jack_set_function jerr = (jack_set_function)dlsym(RTLD_DEFAULT, "jack_set_error_function");
	if (jerr != NULL) {
		jerr(dt_jack_message);
	}
	jack_set_function jinfo = (jack_set_function)dlsym(RTLD_DEFAULT, "jack_set_info_function");
	if (jinfo != NULL) {
		jinfo(dt_jack_message);
	}
}

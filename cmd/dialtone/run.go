package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kong"

	"github.com/dialtone/dialtone/ui/common"
)

// env is what a command runs with: the parsed globals, the process's streams and context.
// Nothing reaches os.* directly, so run is testable in-process.
type env struct {
	ctx    context.Context
	cli    *cli
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	tracer *sipTracer   // the --sip-trace file, if any
	pcap   *pcapCapture // the --pcap file, if any (pcap.go)
	// framer is sipgo's tracer as set last (trace_frame.go), flushed before the trace files and
	// the capture close.
	framer atomic.Pointer[framedTracer]
	// noDeviceHint says what to do without sound devices in this front end's own terms
	// (flags for the headless commands, the config file for the TUI); "" means the flags.
	noDeviceHint string
}

// exitError carries an exit code from a command to run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr is a bad flag or config: exit 2.
func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// longRunning are the commands that may sit idle for hours; trimAfter after they start,
// what start-up alone touched of the executable is unmapped (trimStartupPages).
var longRunning = map[string]bool{"tui": true, "register": true, "answer": true, "serve": true}

const trimAfter = 10 * time.Second

// kongExit unwinds kong's request to exit (after --help or --version).
type kongExit int

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	opts := []kong.Option{
		kong.Name("dialtone"),
		kong.Description("A terminal SIP softphone. Without a command it opens the full-screen interface."),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	}
	quiet := append([]kong.Option{quietWriters(stdout)}, opts...)
	loud := append([]kong.Option{kong.Writers(stdout, stderr), kong.UsageOnError()}, opts...)
	kctx, err := parseArgs(args, &c, quiet, loud) // parse.go
	if err != nil {
		fmt.Fprintf(stderr, "dialtone: %v\n", err)
		return exitUsage
	}
	e := &env{ctx: ctx, cli: &c, stdin: stdin, stdout: stdout, stderr: stderr}
	closeLog, err := e.setupLogging()
	if err != nil {
		fmt.Fprintf(stderr, "dialtone: %v\n", err)
		return exitUsage
	}
	defer closeLog()
	if longRunning[kctx.Command()] {
		t := time.AfterFunc(trimAfter, trimStartupPages) // trim_linux.go
		defer t.Stop()
	}
	return reportExit(stderr, kctx.Run(e))
}

// reportExit says why a command failed, on one line, and gives its exit code. The error can
// carry what the network wrote (a SIP reason phrase): cleaned of control characters before it
// reaches the terminal, as the events are (printer.emit).
func reportExit(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.err != nil {
			fmt.Fprintf(stderr, "dialtone: %s\n", common.Clean(xe.err.Error()))
		}
		return xe.code
	}
	fmt.Fprintf(stderr, "dialtone: %s\n", common.Clean(err.Error()))
	return exitInternal
}

package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/dialtone/dialtone/phone/srtp"
)

// setupLogging builds the one logger of the process (sipgo's included) and the SIP trace.
func (e *env) setupLogging() (func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	level := slog.LevelWarn
	var out io.Writer = e.stderr
	if e.cli.LogFile != "" {
		f, err := os.OpenFile(e.cli.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		closers = append(closers, func() { f.Close() })
		out, level = f, slog.LevelInfo
	}
	if e.cli.LogLevel != "" {
		if err := level.UnmarshalText([]byte(e.cli.LogLevel)); err != nil {
			closeAll()
			return nil, fmt.Errorf("--log-level: %w", err)
		}
	}
	e.log = slog.New(masked(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))) // logmask.go
	// sipgo logs through it too, its records cut and limited (lognoise.go).
	setSIPLogger(e.log)
	if e.cli.SIPTrace != "" {
		f, err := os.OpenFile(e.cli.SIPTrace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("--sip-trace: %w", err)
		}
		t := &sipTracer{w: f}
		e.tracer = t
		e.traceTo(t) // whole messages from TCP and TLS (trace_frame.go)
		closers = append(closers, func() {
			e.flushTrace()
			t.order.flush() // what still waits for its cause
			// sip.SIPDebug stays on: sipgo's connection goroutines read it without a lock
			// (a data race under -race); the tracer writes nowhere from here on instead.
			t.mu.Lock()
			f.Close()
			t.w = io.Discard
			t.mu.Unlock()
		})
	}
	if err := e.setupPcap(&closers); err != nil { // pcap.go: after --sip-trace, which it wraps
		closeAll()
		return nil, err
	}
	return closeAll, nil
}

// sipTracer writes every SIP message with time, direction and addresses. sipgo's hook is a
// process-wide setting, which is why only the command line (not the phone core) sets it.
// Messages go in causal order, as in a --pcap capture (pcap_order.go): a response sipgo
// reported before the request it answers waits for it, at most sipHold.
type sipTracer struct {
	mu    sync.Mutex
	w     io.Writer
	order sipOrder
}

func (t *sipTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	t.order.received(msg, func(at time.Time, m []byte) { t.write(at, "recv", transport, raddr, laddr, m) })
}

func (t *sipTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	t.order.sent(msg, func(at time.Time, m []byte) { t.write(at, "send", transport, laddr, raddr, m) })
}

func (t *sipTracer) write(at time.Time, dir, transport, from, to string, msg []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// SRTP master keys never reach a file: whoever has the trace and a capture could decrypt.
	fmt.Fprintf(t.w, "=== %s %s %s %s -> %s (%d bytes)\n%s\n", at.Format(time.RFC3339Nano), dir, transport, from, to, len(msg), srtp.MaskCryptoLines(msg))
}

package phone

import (
	"context"
	"log/slog"
	"slices"
	"testing"
)

// BenchmarkAutoAnswerCall: one whole call against a phone that answers itself
// (Config.AutoAnswerAudio) from a bare UDP caller on loopback: INVITE, the lone 200, ACK,
// BYE and its 200. It is the in-process view of BenchmarkAnswerTurnaround (bench/), for
// profiling the handler path with -cpuprofile.
func BenchmarkAutoAnswerCall(b *testing.B) {
	p := startAutoAnswerer(b)
	addr := p.SIPAddr()
	b.ReportAllocs()
	for b.Loop() {
		if codes, _ := responsesTo(b, addr); !slices.Equal(codes, []int{200}) {
			b.Fatalf("responses %v, want only 200", codes)
		}
	}
}

// startAutoAnswerer runs a phone that answers every call itself (Config.AutoAnswerAudio) with
// no audio, as `dialtone answer --auto` does, until the benchmark ends.
func startAutoAnswerer(b *testing.B) *Phone {
	b.Helper()
	p, err := New(Config{ListenAddr: "127.0.0.1:0", AutoAnswer: true, Parallel: true,
		MaxCalls: 1000, // a call ends a moment after its BYE is answered
		// As `dialtone answer` logs (warnings only): New's default formats every info line.
		Logger:          slog.New(slog.DiscardHandler),
		AutoAnswerAudio: func(CallStatus) (CallAudio, error) { return CallAudio{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := p.Subscribe(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	drained := make(chan struct{})
	go func() { // nobody reads the events here: keep the bus from filling up
		defer close(drained)
		for range events {
		}
	}()
	b.Cleanup(func() { cancel(); <-done; <-drained })
	select {
	case <-p.Ready():
	case err := <-done:
		b.Fatal(err)
	}
	return p
}

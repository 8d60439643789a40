package main

import (
	"context"
	"sync"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/phone"
)

// runEcho is `dialtone call echo`: an echo peer inside this process, on loopback, answers and
// sends back whatever it hears, through the real SIP and RTP stack. It checks the microphone
// and speaker with no provider and no account.
func (c *callCmd) runEcho(e *env) error {
	cfg, err := e.phoneConfig() // for the global settings (RTP ports, logging); accounts are not used
	if err != nil {
		return err
	}
	cfg.Accounts, cfg.ListenAddr = nil, "127.0.0.1:0"
	peer, err := phone.New(phone.Config{ListenAddr: "127.0.0.1:0", Logger: e.log.With("peer", "echo"), UserAgent: "dialtone-echo"})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(e.ctx))
	defer stop()
	events := peer.Subscribe(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- peer.Run(ctx) }()
	if err := waitReady(e.ctx, peer, runErr); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev := range events {
			if s, ok := ev.(phone.CallStatus); ok && s.State == phone.CallIncoming {
				loop := newEchoBuffer(50) // up to 1 s of audio in flight
				_ = peer.Answer(s.ID, phone.CallAudio{Source: loop, Sink: loop})
			}
		}
	})
	defer func() {
		stop()
		<-runErr
		wg.Wait()
	}()
	return e.placeCall(cfg, "", "sip:echo@"+peer.SIPAddr(), c)
}

// echoBuffer is a Sink whose frames come back out of its Source, in order.
type echoBuffer struct {
	mu     sync.Mutex
	frames [][]int16
	max    int
}

func newEchoBuffer(maxFrames int) *echoBuffer { return &echoBuffer{max: maxFrames} }

func (b *echoBuffer) Write(frame []int16) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.frames) >= b.max {
		b.frames = b.frames[1:] // the caller talks faster than we play back: drop the oldest
	}
	b.frames = append(b.frames, append([]int16(nil), frame...))
	return nil
}

func (b *echoBuffer) Read(frame []int16) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.frames) == 0 {
		clear(frame)
		return nil
	}
	copy(frame, b.frames[0])
	b.frames = b.frames[1:]
	return nil
}

func (b *echoBuffer) Close() error { return nil }

var _ audio.Source = (*echoBuffer)(nil)
var _ audio.Sink = (*echoBuffer)(nil)

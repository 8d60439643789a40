package main

import (
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/dialtone/dialtone/audio"
)

// runEcho is `dialtone call echo`: an echo peer inside this process, on loopback, answers and
// sends back whatever it hears, through the real SIP and RTP stack. It checks the microphone
// and speaker with no provider and no account.
func (c *callCmd) runEcho(e *env) error {
	cfg, err := e.phoneConfig() // for the global settings (RTP ports, logging); accounts are not used
	if err != nil {
		return err
	}
	addr, stop, err := e.startEchoPeer(cfg)
	if err != nil {
		return err
	}
	defer stop()
	cfg.Accounts, cfg.ListenAddr = nil, "127.0.0.1:0"
	return e.placeCall(cfg, "", "sip:echo@"+addr, c)
}

// isEchoPeer says whether target is the address an echo test of an earlier run called
// ("sip:echo@127.0.0.1:PORT", with no account): that peer lived in its process and its port is
// gone, so redialling it from the history means a new echo test, not that address.
func isEchoPeer(account, target string) bool {
	if account != "" {
		return false
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(target), "sip:echo@")
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(rest)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// echoBuffer is a Sink whose frames come back out of its Source, in order.
type echoBuffer struct {
	mu     sync.Mutex
	frames [][]int16
	max    int
	rate   int // of the frames kept (SetRate); 0 until told
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

// SetRate takes frames at the call's rate (the same for both directions, since one session
// writes and reads it), so a wideband call echoes wideband; frames kept at another rate are
// dropped rather than played at the wrong speed.
func (b *echoBuffer) SetRate(hz int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if hz != b.rate {
		b.frames, b.rate = nil, hz
	}
	return nil
}

var _ audio.Source = (*echoBuffer)(nil)
var _ audio.Sink = (*echoBuffer)(nil)
var _ audio.RateSetter = (*echoBuffer)(nil)

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"
	"github.com/dialtone/dialtone/phone"
)

type serveCmd struct {
	Control      string        `help:"Control socket (default $$XDG_RUNTIME_DIR/dialtone/control.sock)." placeholder:"PATH" type:"path"`
	Play         string        `help:"Send this WAV file on every call placed or answered through the socket, instead of the microphone." placeholder:"FILE" type:"path"`
	RecordDir    string        `name:"record-dir" help:"Write what the far end sends on each call to DIR/TIME-N.wav (N counts the calls), instead of the speaker." placeholder:"DIR" type:"path"`
	Audio        string        `help:"Audio backend for directions not given by --play/--record-dir: device (PortAudio) or null (silence in, discard out)." enum:"device,null," default:"" placeholder:"device|null"`
	InputDevice  string        `help:"Microphone: a device name, part of one, or its index (see dialtone devices)." placeholder:"DEVICE"`
	OutputDevice string        `help:"Speaker: a device name, part of one, or its index (see dialtone devices)." placeholder:"DEVICE"`
	RingTimeout  time.Duration `help:"Give up (CANCEL) on a dialled call nobody answers within this time." default:"60s"`
	ControlQueue int           `name:"control-queue" hidden:"" help:"Lines that may wait for one control client before it is disconnected." default:"512"`
}

// server is a running `dialtone serve`: the phone, the audio of its calls, the socket.
type server struct {
	e   *env
	r   *running
	cmd *serveCmd

	names *contactNames // "dial" takes a contact's name too

	mu    sync.Mutex
	audio callDevices // closed when the call ends
	n     int         // recordings made, for unique names

	// openAudio opens a call's audio (env.openAudio; tests give their own). Never called
	// under mu: a sound device can take long to open, and every event waits for mu.
	openAudio func(audioFlags, string) (*callAudio, error)
	// opening serialises the clients' dial and answer around their audio's opening: one call's
	// audio opens once (two answers of one call opened two, and the loser's --record-dir file
	// was no call's), and PortAudio is not opened from two goroutines at once.
	opening sync.Mutex
}

// Run registers the accounts (like register), listens on the control socket and carries out
// its commands until SIGINT/SIGTERM. Every event goes to stdout (as with register; NDJSON with
// --json) and, as NDJSON, to every connected client. Exit 0 after a signal; 2 when the
// configuration or the socket path is unusable.
func (c *serveCmd) Run(e *env) error {
	path, err := controlPath(c.Control)
	if err != nil {
		return err
	}
	cfg, err := e.phoneConfig()
	if err != nil {
		return err
	}
	account := ""
	for i := range cfg.Accounts {
		cfg.Accounts[i].Register = true // serve takes calls: it means it, like register
		if account == "" {
			account = cfg.Accounts[i].Name
		}
	}
	r, err := e.startPhone(cfg, true)
	if err != nil {
		return err
	}
	out := &printer{w: e.stdout, json: e.cli.JSON, names: e.loadContactNames()}
	s := &server{e: e, r: r, cmd: c, names: out.names, openAudio: e.openAudio}
	s.audio.closeErr = e.audioCloseErr
	k := &controller{ph: r.Phone, account: account, names: out.names, dial: s.dial, answer: s.answer}
	srv, err := control.Listen(path, k.do, e.log, c.ControlQueue)
	if err != nil {
		_ = r.finish(out.event)
		return usageErr("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	now := time.Now()
	out.emit(record{Event: "control", Time: stamp(now), Addr: path},
		fmt.Sprintf("%s control socket %s", now.Format("15:04:05"), path))
	if len(cfg.Accounts) == 0 {
		out.listening(r.SIPAddr())
	}
	clients := &printer{w: broadcaster{srv}, json: true, names: out.names}
	each := func(ev phone.Event) {
		out.event(ev)
		clients.event(ev)
		s.mu.Lock() // a dial or answer in progress files its audio first
		s.audio.follow(ev)
		s.mu.Unlock()
	}
	interrupted := e.ctx.Done()
loop:
	for {
		select {
		case <-interrupted:
			break loop
		case ev, ok := <-r.Events:
			if !ok {
				break loop
			}
			each(ev)
		}
	}
	cancel() // no new commands; clients see the shutdown's events no more
	serr := <-served
	rerr := r.finish(out.event)
	s.audio.closeAll()
	if rerr != nil {
		return &exitError{code: exitCodeFor(phone.FailureOf(rerr)), err: rerr}
	}
	return serr
}

// controlPath is --control, else $XDG_RUNTIME_DIR/dialtone/control.sock. Without
// XDG_RUNTIME_DIR it is a private directory of our own under the temporary directory.
func controlPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "dialtone", "control.sock"), nil
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("dialtone-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", usageErr("control socket directory %s: %v", dir, err)
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 || !ownedByUs(fi) {
		return "", usageErr("control socket directory %s is not a private directory of ours: set XDG_RUNTIME_DIR or --control", dir)
	}
	return filepath.Join(dir, "control.sock"), nil
}

// broadcaster hands each NDJSON line the printer writes to every control client.
type broadcaster struct{ srv *control.Server }

func (b broadcaster) Write(p []byte) (int, error) {
	b.srv.Broadcast(append([]byte(nil), p...)) // the printer reuses its buffer
	return len(p), nil
}

// open opens one call's audio as the flags say. The caller does not hold s.mu.
func (s *server) open() (*callAudio, error) {
	rec := ""
	if s.cmd.RecordDir != "" {
		if err := os.MkdirAll(s.cmd.RecordDir, 0o700); err != nil { // recordings are private
			return nil, fmt.Errorf("--record-dir: %w", err)
		}
		s.mu.Lock()
		s.n++
		n := s.n
		s.mu.Unlock()
		rec = filepath.Join(s.cmd.RecordDir, fmt.Sprintf("%s-%d.wav", time.Now().Format("20060102-150405"), n))
	}
	f := audioFlags{Play: s.cmd.Play, Audio: s.cmd.Audio, InputDevice: s.cmd.InputDevice, OutputDevice: s.cmd.OutputDevice}
	return s.openAudio(f, rec)
}

// dial places a call for a "dial" command. The audio is opened first, without the lock (a
// sound device that takes seconds to open held up every event and every client); the lock is
// then held until the audio is filed under the call's id, so that the call's end (handled under
// the same lock) always finds it.
func (s *server) dial(account, target string) (string, error) {
	s.opening.Lock()
	defer s.opening.Unlock()
	ca, err := s.open()
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.r.Dial(account, s.names.target(target), ca.CallAudio, phone.DialOptions{RingTimeout: s.cmd.RingTimeout})
	if err != nil {
		ca.Close()
		return "", err
	}
	s.audio.keep(id, ca)
	return id, nil
}

// answer answers a ringing call for an "answer" command.
func (s *server) answer(id string) error {
	s.opening.Lock()
	defer s.opening.Unlock()
	s.mu.Lock()
	answered := s.audio.has(id)
	s.mu.Unlock()
	if answered {
		return fmt.Errorf("call %s: already answered", id)
	}
	ca, err := s.open() // without the lock, as for dial
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.audio.has(id) { // another client's answer won while this one opened its audio
		ca.Close()
		return fmt.Errorf("call %s: already answered", id)
	}
	if err := s.r.Answer(id, ca.CallAudio); err != nil {
		ca.Close()
		return err
	}
	s.audio.keep(id, ca)
	return nil
}

// release closes an ended call's audio.

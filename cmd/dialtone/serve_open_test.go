package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/cmd/dialtone/control"
	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/phone/store"
)

// TestServeOpensAudioWithoutTheLock: a call's audio (a sound device that may take seconds to
// open) is opened without the lock every event takes: the event stream and the other clients
// went on hold meanwhile.
func TestServeOpensAudioWithoutTheLock(t *testing.T) {
	ph, err := phone.New(phone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	opening, release := make(chan struct{}), make(chan struct{})
	s := &server{r: &running{Phone: ph}, cmd: &serveCmd{}, openAudio: func(audioFlags, string) (*callAudio, error) {
		close(opening)
		<-release
		return &callAudio{}, nil
	}}
	done := make(chan error, 1)
	go func() { done <- s.answer("c1") }()
	select {
	case <-opening:
	case <-time.After(5 * time.Second):
		t.Fatal("answer never opened its audio")
	}
	if !s.mu.TryLock() {
		close(release)
		t.Fatal("the lock is held while the audio opens")
	}
	s.mu.Unlock()
	close(release)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("answered a call that does not exist")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("answer did not return")
	}
}

// TestControlMessageTakesAContactsName: `ctl message NAME` (and --stdin's) goes to the contact's
// address, as `dialtone message NAME` and `ctl dial NAME` do; it went to NAME@domain.
func TestControlMessageTakesAContactsName(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	far, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	s, err := store.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContact(ctx, store.Contact{Name: "Bob", URIs: []string{"sip:robert@" + far.LocalAddr().String()}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	e := &env{ctx: ctx, cli: &cli{DataDir: dir}}
	ph, err := phone.New(phone.Config{ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- ph.Run(pctx) }()
	defer func() { stop(); <-ran }()
	<-ph.Ready()
	k := &controller{ph: ph, names: e.loadContactNames()}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go k.do(cctx, control.Command{Cmd: "message", Target: "bob", Text: "hi"})
	buf := make([]byte, 4096)
	_ = far.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := far.ReadFrom(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "MESSAGE sip:robert@") {
		t.Fatalf("the contact's address got %q, %v; want the MESSAGE for robert", buf[:min(n, 60)], err)
	}
}

// TestContactNameAsTypedFirst: a history from before names were unique in any case may hold
// "Émile" and "émile"; the name typed goes to the one written that way, and a name typed with
// a combining accent (NFD) finds the stored one.
func TestContactNameAsTypedFirst(t *testing.T) {
	n := &contactNames{cur: &nameIndex{list: []store.Contact{
		{Name: "Émile", URIs: []string{"sip:a@example.com"}},
		{Name: "émile", URIs: []string{"sip:b@example.com"}},
		{Name: "José", URIs: []string{"sip:jose@example.com"}},
	}}}
	for typed, want := range map[string]string{"émile": "sip:b@example.com", "Émile": "sip:a@example.com", "ÉMILE": "sip:a@example.com", "Jose\u0301": "sip:jose@example.com"} {
		if got := n.target(typed); got != want {
			t.Errorf("target(%q) = %q, want %q", typed, got, want)
		}
	}
}

// TestAudioFiledAfterItsCallEndedIsClosed: a call that ended (refused at once) before the
// front end filed its audio gets that audio closed when it is filed, not kept open until quit.
func TestAudioFiledAfterItsCallEndedIsClosed(t *testing.T) {
	var d callDevices
	d.follow(phone.CallStatus{ID: "c1", State: phone.CallEnded})
	closed := make(chan struct{})
	d.keep("c1", &callAudio{closers: []func() error{func() error { close(closed); return nil }}})
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the audio of a call that had ended was kept open")
	}
	if d.has("c1") {
		t.Fatal("the ended call's audio is filed")
	}
	d.closing.Wait()
}

package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipOptions configures StartBaresip.
type BaresipOptions struct {
	// User and Password form the account sip:User@Domain, which registers
	// with digest authentication at Registrar. User defaults to "baresip".
	User, Password string
	// Host is the network namespace to run in (a *netlab.Host); nil is the
	// host namespace.
	Host nsHost
	// IP is the IPv4 address baresip listens on and writes into its SDP
	// (default 127.0.0.1). Its ctrl_tcp interface stays on 127.0.0.1 of its
	// namespace.
	IP string
	// Domain is the account's domain when registering (default the
	// Registrar's host).
	Domain string
	// Registrar is the Kamailio UDP host:port (e.g. k.HostPort("udp")) used
	// as outbound proxy for REGISTER and for every call. "" means no
	// registration: the account is sip:User@127.0.0.1:SIPPort (listen only)
	// and calls go straight to the dialled URI.
	Registrar string
	// AutoAnswer answers incoming calls at once (answermode=auto). Baresip
	// 1.0 then emits no CALL_INCOMING event, only CALL_ESTABLISHED (with
	// Direction "incoming"); without it CALL_INCOMING comes and Answer
	// accepts the call.
	AutoAnswer bool
	// Contacts go into baresip's contacts file and load the contact module: baresip 1.0 sends
	// MESSAGE only to its current contact (select one with Command("contact_next", "")).
	Contacts []string
	// ToneHz is the frequency of the sine (peak -6 dBFS) that baresip sends
	// as its microphone; 0 sends silence. The source is a generated 120 s
	// WAV, because baresip's aufile source ends the call when the file ends.
	ToneHz float64
	// MediaEnc is the account's mediaenc ("srtp", "srtp-mand" or
	// "srtp-mandf"; see baresipMediaEncs for what each offers and accepts)
	// and loads the srtp module; "" is plain RTP.
	MediaEnc string
	// Codecs is the account's audio_codecs in order of preference, e.g.
	// {"G722"}, {"opus"}, {"PCMU", "PCMA"}, loading the g722/opus modules as
	// needed; nil offers every loaded codec (G.711 only, unless another
	// option loaded more). Opus is configured mono (stereo=0;sprop-stereo=0)
	// with the voip application.
	Codecs []string
	// SampleRate is the microphone rate (ausrc_srate) and the rate of the
	// generated tone WAV: 8000, 16000, 32000 or 48000; the default is the
	// rate of Codecs[0] (16000 for G722, 48000 for opus), else 8000. Keep
	// it at the call's codec rate: a tone above 4 kHz needs 16000 or more,
	// and baresip 1.0's resampling of an 8000 Hz source for G.722 left the
	// far end's tone 21 dB quieter (-30 instead of -9 dBFS) when measured.
	SampleRate int
	// Transport is the SIP transport to Registrar and for calls: "udp"
	// (default), "tcp" (Registrar k.HostPort("tcp")) or "tls" (Registrar
	// k.HostPort("tls"), CAFile k.CAFile()). Over TLS baresip keeps the
	// registration's connection, over which Kamailio sends incoming calls.
	Transport string
	// CAFile is the PEM trust root for the registrar's TLS certificate
	// (sip_cafile); needed for Transport "tls" with a Registrar.
	CAFile string
	// Ptime is the account's ptime in ms (the a=ptime baresip's SDP asks
	// for); 0 leaves baresip's default, 20. baresip itself sends what the
	// far end's a=ptime asks.
	Ptime int
}

// BaresipEvent is one event from baresip's ctrl_tcp interface, e.g.
// {"event":true,"type":"CALL_ESTABLISHED","class":"call",
// "accountaor":"sip:alice@127.0.0.1","direction":"incoming",
// "peeruri":"sip:bob@127.0.0.1","param":"sip:bob@127.0.0.1"}.
type BaresipEvent struct {
	Type       string         // "REGISTER_OK", "CALL_INCOMING", "CALL_ESTABLISHED", ...
	Class      string         // "register", "call", "other", ...
	AccountAOR string         // the account's AOR
	Direction  string         // "incoming" / "outgoing" for call events
	PeerURI    string         // the far end for call events
	Param      string         // event parameter (e.g. reason of CALL_CLOSED)
	Raw        map[string]any // the whole JSON object
}

// Baresip is a running baresip user agent, driven through ctrl_tcp.
type Baresip struct {
	t        testing.TB
	opts     BaresipOptions
	dir      string // config directory (config, accounts, tone.wav, baresip.log)
	recDir   string // snd_path: sndfile's dump-*.wav files
	logFile  string
	toneFile string
	certFile string // TLS listener's certificate+key (Transport "tls")
	aor      string
	sipPort  int
	ctrlPort int

	cmd     *exec.Cmd
	done    <-chan struct{} // closed when the process has been reaped
	waitErr error

	ctrl *baresipCtrl

	stopOnce sync.Once
}

const (
	baresipStartTimeout    = 15 * time.Second
	baresipRegisterTimeout = 15 * time.Second
	baresipCommandTimeout  = 5 * time.Second
	baresipQuitTimeout     = 3 * time.Second
	baresipTermTimeout     = 3 * time.Second
	baresipToneSeconds     = 120
	baresipRate            = 8000
)

var baresipModuleDirs = []string{
	"/usr/lib/baresip/modules",
	"/usr/lib/x86_64-linux-gnu/baresip/modules",
	"/usr/lib/aarch64-linux-gnu/baresip/modules",
	"/usr/lib64/baresip/modules",
	"/usr/local/lib/baresip/modules",
	"/usr/local/lib64/baresip/modules",
}

// baresipModules are the modules the generated config loads; all must exist.
var baresipModules = []string{"g711.so", "sndfile.so", "aufile.so", "aubridge.so", "account.so", "menu.so", "ctrl_tcp.so"}

// StartBaresip starts baresip headless (no sound card: the microphone is a
// generated WAV played by the aufile module, the speaker is an aubridge
// device that nobody reads, and the sndfile filter records what is sent and
// received) on free 127.0.0.1 ports, connects to its ctrl_tcp interface and,
// if opts.Registrar is set, waits until the account is registered. It skips
// the test when baresip or one of its modules is not installed, fails it with
// baresip's log when baresip does not come up or register within 15 s, and
// stops baresip on test cleanup. Nothing written is removed before the
// test's own TempDir cleanup, so recordings stay readable in the test body.
func StartBaresip(t testing.TB, opts BaresipOptions) *Baresip {
	t.Helper()
	bin, ok := findBinary("baresip")
	if !ok {
		t.Skip("baresip binary not found (install the baresip-core package)")
	}
	mdir, ok := findModuleDir("BARESIP_MODULE_PATH", baresipModuleDirs, "ctrl_tcp.so")
	if !ok {
		t.Skip("baresip module directory not found (install baresip-core or set BARESIP_MODULE_PATH)")
	}
	for _, m := range baresipModules {
		if _, err := os.Stat(filepath.Join(mdir, m)); err != nil {
			t.Skipf("baresip module %s not found in %s", m, mdir)
		}
	}
	if opts.User == "" {
		opts.User = "baresip"
	}
	if err := checkBaresipParam("User", opts.User); err != nil {
		t.Fatalf("peers: %v", err)
	}
	if err := checkBaresipParam("Password", opts.Password); err != nil {
		t.Fatalf("peers: %v", err)
	}
	if opts.Registrar != "" {
		host, _, err := net.SplitHostPort(opts.Registrar)
		if err != nil {
			t.Fatalf("peers: Registrar %q is not host:port: %v", opts.Registrar, err)
		}
		if opts.Domain == "" {
			opts.Domain = host
		}
	}
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.IP); ip == nil || ip.To4() == nil {
		t.Fatalf("peers: baresip IP %q is not an IPv4 address", opts.IP)
	}
	if err := checkBaresipParam("Domain", opts.Domain); err != nil {
		t.Fatalf("peers: %v", err)
	}
	extraModules, err := opts.checkMedia()
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	for _, m := range extraModules {
		if _, err := os.Stat(filepath.Join(mdir, m)); err != nil {
			t.Skipf("baresip module %s not found in %s", m, mdir)
		}
	}
	if opts.ToneHz < 0 || opts.ToneHz >= float64(opts.SampleRate)/2 {
		t.Fatalf("peers: ToneHz %v outside [0, %d)", opts.ToneHz, opts.SampleRate/2)
	}

	dir := t.TempDir()
	b := &Baresip{
		t:        t,
		opts:     opts,
		dir:      dir,
		recDir:   filepath.Join(dir, "rec"),
		logFile:  filepath.Join(dir, "baresip.log"),
		toneFile: filepath.Join(dir, "tone.wav"),
	}
	if err := os.Mkdir(b.recDir, 0o755); err != nil {
		t.Fatalf("peers: %v", err)
	}
	if err := writeToneWAV(b.toneFile, opts.ToneHz, opts.SampleRate, baresipToneSeconds); err != nil {
		t.Fatalf("peers: writing tone WAV: %v", err)
	}
	if opts.Transport == "tls" {
		if err := b.writeTLSCert(); err != nil {
			t.Fatalf("peers: %v", err)
		}
	}

	for try := 1; ; try++ {
		sipPort, ctrlPort, err := freeBaresipPorts(opts.Host, opts.IP)
		if err != nil {
			t.Fatalf("peers: choosing ports: %v", err)
		}
		b.sipPort, b.ctrlPort = sipPort, ctrlPort
		if err := b.writeConfig(mdir, extraModules); err != nil {
			t.Fatalf("peers: writing baresip config: %v", err)
		}
		err = b.start(bin)
		if err == nil {
			break
		}
		b.stop()
		b.ctrl = nil
		log := b.Log()
		if try < startTries && strings.Contains(log, "Address already in use") {
			t.Logf("peers: baresip port clash on %d/%d, retrying", sipPort, ctrlPort)
			if err := os.WriteFile(b.logFile, nil, 0o644); err != nil {
				t.Fatalf("peers: %v", err)
			}
			continue
		}
		t.Fatalf("peers: starting baresip: %v\n--- baresip log (%s) ---\n%s", err, b.logFile, log)
	}
	t.Cleanup(b.Stop)

	if opts.Registrar != "" {
		if err := b.waitRegistered(baresipRegisterTimeout); err != nil {
			t.Fatalf("peers: baresip %s: %v\n--- baresip log (%s) ---\n%s", b.aor, err, b.logFile, b.Log())
		}
	}
	return b
}

func (b *Baresip) start(bin string) error {
	logf, err := os.OpenFile(b.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own copy
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()

	// -s: SIP trace in the log; -v would add debug lines, mostly noise.
	cmd := hostCommand(b.opts.Host, bin, "-4", "-s", "-f", b.dir)
	cmd.Dir = b.dir
	cmd.Stdin = devnull
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = append(os.Environ(), "HOME="+b.dir)
	done, err := startGroup(cmd, func(err error) { b.waitErr = err })
	if err != nil {
		return err
	}
	b.cmd, b.done = cmd, done
	return b.waitReady()
}

// waitReady waits for "baresip is ready." in the log, checks that no
// listener failed and connects to ctrl_tcp.
func (b *Baresip) waitReady() error {
	deadline := time.Now().Add(baresipStartTimeout)
	for {
		select {
		case <-b.done:
			return fmt.Errorf("baresip exited during start-up: %v", b.waitErr)
		default:
		}
		log := b.Log()
		if strings.Contains(log, "Address already in use") {
			return errors.New("a listener failed: address already in use")
		}
		if strings.Contains(log, "baresip is ready.") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("baresip not ready after %v", baresipStartTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := hostDial(ctx, b.opts.Host, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.ctrlPort)))
	if err != nil {
		return fmt.Errorf("connecting to ctrl_tcp: %v", err)
	}
	b.ctrl = newBaresipCtrl(conn, b.done)
	// A first command proves that the listener is baresip's.
	if _, err := b.Command("reginfo", ""); err != nil {
		return fmt.Errorf("ctrl_tcp does not answer: %v", err)
	}
	return nil
}

// waitRegistered waits for REGISTER_OK. The registration may have finished
// before the ctrl connection was up (ctrl_tcp does not replay events), so
// "reginfo" is polled too.
func (b *Baresip) waitRegistered(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if ev, ok := b.ctrl.take(func(ev BaresipEvent) bool {
			return ev.Type == "REGISTER_OK" || ev.Type == "REGISTER_FAIL"
		}); ok {
			if ev.Type == "REGISTER_OK" {
				return nil
			}
			return fmt.Errorf("registration failed: %s", ev.Param)
		}
		info, err := b.Command("reginfo", "")
		if err != nil {
			return err
		}
		switch regStatus(info, b.aor) {
		case "OK":
			return nil
		case "ERR":
			return fmt.Errorf("registration failed: %s", strings.TrimSpace(stripANSI(info)))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not registered after %v: %s", timeout, strings.TrimSpace(stripANSI(info)))
		}
		b.ctrl.wait(200 * time.Millisecond)
	}
}

// regStatus extracts the account's status from "reginfo" output. Baresip
// 1.0 prints one line per account, "> sip:alice@127.0.0.1   OK  <server>
// Expires 600s", the status being "OK " (registered, green), "ERR" (last
// attempt failed, red), "zzz" (no answer yet) or nothing (no registration).
func regStatus(info, aor string) string {
	for _, line := range strings.Split(info, "\n") {
		f := strings.Fields(stripANSI(line))
		for i, w := range f {
			if w == aor && i+1 < len(f) {
				return f[i+1]
			}
		}
	}
	return ""
}

func stripANSI(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

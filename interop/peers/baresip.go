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
	"syscall"
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

// checkBaresipParam rejects values that would break the accounts line.
func checkBaresipParam(name, v string) error {
	if strings.ContainsAny(v, ";\"<>,@ \t\r\n\\") {
		return fmt.Errorf("baresip %s %q contains characters the accounts file cannot carry", name, v)
	}
	return nil
}

// freeBaresipPorts picks a SIP port P free on ip in h for UDP and TCP with
// P+1 free for TCP (baresip always opens a TLS listener on the SIP port + 1)
// and a free TCP port on 127.0.0.1 in h for ctrl_tcp.
func freeBaresipPorts(h nsHost, ip string) (sipPort, ctrlPort int, err error) {
	for range 50 {
		l, err := hostListen(h, "tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 65535 {
			l.Close()
			continue
		}
		u, err := hostListenPacket(h, "udp", net.JoinHostPort(ip, strconv.Itoa(p)))
		if err != nil {
			l.Close()
			continue
		}
		l1, err := hostListen(h, "tcp", net.JoinHostPort(ip, strconv.Itoa(p+1)))
		if err != nil {
			l.Close()
			u.Close()
			continue
		}
		l2, err := hostListen(h, "tcp", "127.0.0.1:0")
		if err != nil {
			l.Close()
			u.Close()
			l1.Close()
			return 0, 0, err
		}
		c := l2.Addr().(*net.TCPAddr).Port
		l.Close()
		u.Close()
		l1.Close()
		l2.Close()
		return p, c, nil
	}
	return 0, 0, errors.New("no free port pair for baresip")
}

func (b *Baresip) writeConfig(moduleDir string, extraModules []string) error {
	answer := "manual"
	if b.opts.AutoAnswer {
		answer = "auto"
	}
	var acc string
	tp := b.opts.transportParam()
	if b.opts.Registrar != "" {
		b.aor = "sip:" + b.opts.User + "@" + b.opts.Domain
		acc = fmt.Sprintf("<%s%s>;auth_pass=%s;outbound=\"sip:%s%s;lr\";regint=600;answermode=%s%s\n",
			b.aor, tp, b.opts.Password, b.opts.Registrar, tp, answer, b.opts.accountMediaParams())
	} else {
		port := b.sipPort
		if b.opts.Transport == "tls" {
			port++ // baresip's TLS listener
		}
		b.aor = fmt.Sprintf("sip:%s@%s:%d%s", b.opts.User, b.opts.IP, port, tp)
		acc = fmt.Sprintf("<%s>;regint=0;answermode=%s%s\n", b.aor, answer, b.opts.accountMediaParams())
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(acc), 0o644); err != nil {
		return err
	}
	// An empty contacts file (when no contacts are wanted) keeps a baresip that loads the
	// module anyway from writing a template.
	var contacts strings.Builder
	for _, c := range b.opts.Contacts {
		fmt.Fprintf(&contacts, "<%s>\n", c)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "contacts"), []byte(contacts.String()), 0o644); err != nil {
		return err
	}
	cfg := baresipConfig(b.opts.IP, b.sipPort, b.ctrlPort, moduleDir, b.toneFile, b.recDir, b.opts.SampleRate)
	cfg += b.mediaConfig(extraModules)
	if len(b.opts.Contacts) > 0 {
		cfg += "module_app\t\tcontact.so\n"
	}
	return os.WriteFile(filepath.Join(b.dir, "config"), []byte(cfg), 0o644)
}

// baresipConfig renders the config file for baresip 1.0.
func baresipConfig(ip string, sipPort, ctrlPort int, moduleDir, toneFile, recDir string, rate int) string {
	return fmt.Sprintf(`# generated by interop/peers for baresip 1.0
poll_method		epoll

# SIP: UDP+TCP on this port, TLS on port+1
sip_listen		%[1]s:%[2]d

call_local_timeout	120
call_max_calls		4

# Audio: no sound card. The source is a WAV file (aufile; the call ends when
# the file ends), the player and the alert/ringtone player are aubridge
# devices that never get a matching source, so they stay silent and idle.
audio_path		/usr/share/baresip
audio_player		aubridge,speaker
audio_alert		aubridge,alert
audio_source		aufile,%[3]s
ausrc_srate		%[7]d
ausrc_channels		1
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16

# RTP
rtp_tos			0
rtp_ports		20000-29999
rtcp_mux		no
jitter_buffer_delay	1-10
rtp_stats		no

# Network: one address ("lo" does not work in 1.0: it must be an address)
net_interface		%[1]s
dns_server		127.0.0.1:53

module_path		%[4]s
module			g711.so
module			sndfile.so
module			aufile.so
module			aubridge.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so

# menu: no call-status line every 100 ms in the log, no bell
statmode_default	off
menu_bell		no

ctrl_tcp_listen		127.0.0.1:%[5]d
snd_path		%[6]s
`, ip, sipPort, toneFile, moduleDir, ctrlPort, recDir, rate)
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

// Dial places a call to uri (e.g. "sip:alice@127.0.0.1").
func (b *Baresip) Dial(uri string) error {
	_, err := b.Command("dial", uri)
	return err
}

// Answer answers the ringing incoming call (needed without AutoAnswer).
func (b *Baresip) Answer() error {
	_, err := b.Command("accept", "")
	return err
}

// Hangup hangs up the current call (or rejects/cancels a ringing one).
func (b *Baresip) Hangup() error {
	_, err := b.Command("hangup", "")
	return err
}

// Command sends a raw ctrl_tcp command (a menu command without the leading
// slash, e.g. "dial", "reginfo", "listcalls", "message") and returns the
// response's data. An "ok":false response is an error.
func (b *Baresip) Command(cmd, params string) (string, error) {
	if b.ctrl == nil {
		return "", errors.New("baresip ctrl_tcp not connected")
	}
	return b.ctrl.command(cmd, params, baresipCommandTimeout)
}

// WaitEvent waits up to timeout for an event of type typ and consumes it.
// Events are queued from the moment StartBaresip returns (REGISTER_OK seen
// during start-up is consumed by StartBaresip); WaitEvent takes the oldest
// queued event of that type and leaves the others in the queue, so e.g.
// CALL_RINGING and CALL_ESTABLISHED may be waited for in either order.
func (b *Baresip) WaitEvent(typ string, timeout time.Duration) (BaresipEvent, error) {
	if b.ctrl == nil {
		return BaresipEvent{}, errors.New("baresip ctrl_tcp not connected")
	}
	ev, err := b.ctrl.waitEvent(func(ev BaresipEvent) bool { return ev.Type == typ }, timeout)
	if err != nil {
		return ev, fmt.Errorf("waiting for baresip %s event: %w (events so far: %s)", typ, err, b.ctrl.history())
	}
	return ev, nil
}

// Events returns every event received so far, consumed or not, in order.
func (b *Baresip) Events() []BaresipEvent {
	if b.ctrl == nil {
		return nil
	}
	return b.ctrl.allEvents()
}

// Log returns what baresip has printed so far (including a SIP trace).
func (b *Baresip) Log() string {
	data, err := os.ReadFile(b.logFile)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", b.logFile, err)
	}
	return string(data)
}

// SIPPort is the UDP/TCP port baresip listens on for SIP (on IP).
func (b *Baresip) SIPPort() int { return b.sipPort }

// IP is the address baresip listens on and advertises in its SDP.
func (b *Baresip) IP() string { return b.opts.IP }

// AOR is the account's address of record: sip:User@Domain when
// registering, sip:User@IP:SIPPort in listen-only mode (the URI to call it
// on).
func (b *Baresip) AOR() string { return b.aor }

// Dir is the config directory (config, accounts, tone.wav, baresip.log);
// RecordingDir (Dir/rec) holds the sndfile recordings.
func (b *Baresip) Dir() string { return b.dir }

// RecordingDir is sndfile's snd_path.
func (b *Baresip) RecordingDir() string { return b.recDir }

// Stop quits baresip: "quit" over ctrl_tcp, then SIGTERM, then SIGKILL to
// its process group, waiting for it to exit. StartBaresip registers it with
// t.Cleanup; calling it earlier is fine and calling it again is a no-op.
// Files are left in place.
func (b *Baresip) Stop() {
	b.stopOnce.Do(b.stop)
}

func (b *Baresip) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		if b.ctrl != nil {
			b.ctrl.close()
		}
		return
	}
	pgid := b.cmd.Process.Pid
	exited := func(d time.Duration) bool {
		select {
		case <-b.done:
			return true
		case <-time.After(d):
			return false
		}
	}
	quit := false
	if b.ctrl != nil {
		// baresip may exit before answering "quit".
		_ = b.ctrl.send("quit", "", "")
		quit = exited(baresipQuitTimeout)
	}
	if !quit {
		stopGroup(b.t, "baresip", pgid, b.done, baresipTermTimeout)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers
	if b.ctrl != nil {
		b.ctrl.close()
	}
	b.cmd = nil
}

// Pid is the baresip process id, for benchmarks that measure its CPU time.
func (b *Baresip) Pid() int { return b.cmd.Process.Pid }

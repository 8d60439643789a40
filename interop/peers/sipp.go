package peers

import (
	"embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// The UAS scenarios of testdata/sipp are embedded, so StartSippUAS finds
// them whatever the test's working directory is.
//
//go:embed testdata/sipp/*.xml
var sippScenarios embed.FS

// SippOptions configures StartSippUAS.
type SippOptions struct {
	// Scenario is the name of a scenario in testdata/sipp without ".xml"
	// (e.g. "uas_echo"), or the path of a scenario XML file (anything with
	// a "/" or ending in ".xml").
	Scenario string
	// Vars are passed as "-key NAME VALUE": the scenario text can use them
	// as [NAME] keywords. They override the defaults of SippDefaultVars
	// (auth_user, auth_pass, auth_realm).
	Vars map[string]string
	// Calls is how many calls sipp handles before it exits (-m); default 1.
	Calls int
	// RTPEcho runs sipp with -rtp_echo: every UDP packet that reaches the
	// media port (MediaPort, [media_port] in the SDP) is sent back to the
	// address and port it came from, in or out of a call.
	RTPEcho bool
	// Args are extra sipp command-line arguments, appended last.
	Args []string
}

// SippDefaultVars are the -key values every sipp gets unless
// SippOptions.Vars overrides them; the uas_auth and uas_proxy_auth scenarios
// accept user auth_user with password auth_pass in realm auth_realm.
var SippDefaultVars = map[string]string{
	"auth_user":  "alice",
	"auth_pass":  "secret",
	"auth_realm": "sipp",
}

// Sipp is a running sipp UAS on 127.0.0.1 (UDP).
type Sipp struct {
	t         testing.TB
	bin       string
	dir       string
	scenario  string
	opts      SippOptions
	port      int
	mediaPort int
	ctlPort   int

	consoleFile string // sipp's stdout and stderr
	errorFile   string // -trace_err
	messageFile string // -trace_msg
	logFile     string // -trace_logs: the scenario's <log> actions

	cmd      *exec.Cmd
	done     <-chan struct{} // closed when sipp has been reaped
	waitErr  error
	exitCode int
}

const (
	sippStartTimeout = 5 * time.Second
	sippStopTimeout  = 3 * time.Second
	sippStartTries   = 3
)

// Exit codes of sipp 3.6 (see Wait).
const (
	SippExitOK         = 0   // every call went through the scenario
	SippExitFailed     = 1   // some call failed, or a fatal scenario error
	SippExitBindFailed = 254 // a socket could not be bound (-2)
)

// StartSippUAS starts sipp running a UAS scenario on 127.0.0.1:<free port>
// (UDP), with its media port (-mp, [media_port]) and control port on other
// free ports, in the foreground with its traces in a temporary directory.
// It returns once sipp listens. It skips the test when sipp is not
// installed, fails it if sipp does not come up, and stops sipp (whole
// process group) on test cleanup.
func StartSippUAS(t testing.TB, opts SippOptions) *Sipp {
	t.Helper()
	bin, ok := findBinary("sipp")
	if !ok {
		t.Skip("sipp binary not found (install the sip-tester package)")
	}
	if opts.Calls == 0 {
		opts.Calls = 1
	}
	if opts.Calls < 0 {
		t.Fatalf("peers: negative sipp Calls %d", opts.Calls)
	}
	dir := shortTempDir(t)
	scenario, err := sippScenarioFile(dir, opts.Scenario)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	s := &Sipp{
		t:           t,
		bin:         bin,
		dir:         dir,
		scenario:    scenario,
		opts:        opts,
		consoleFile: filepath.Join(dir, "console.log"),
		errorFile:   filepath.Join(dir, "errors.log"),
		messageFile: filepath.Join(dir, "messages.log"),
		logFile:     filepath.Join(dir, "actions.log"),
	}
	for try := 1; ; try++ {
		if err := s.pickPorts(); err != nil {
			t.Fatalf("peers: choosing sipp ports: %v", err)
		}
		err := s.start()
		if err == nil {
			break
		}
		s.Stop()
		log := s.Log()
		if try < sippStartTries && strings.Contains(log, "Unable to bind") {
			t.Logf("peers: sipp port clash on %d/%d/%d, retrying", s.port, s.mediaPort, s.ctlPort)
			continue
		}
		t.Fatalf("peers: starting sipp: %v\n--- sipp log (%s) ---\n%s", err, s.dir, log)
	}
	t.Cleanup(s.Stop)
	return s
}

// sippScenarioFile returns the file of scenario: a path as is, or an
// embedded testdata/sipp scenario written to dir.
func sippScenarioFile(dir, scenario string) (string, error) {
	if scenario == "" {
		return "", errors.New("no sipp scenario given")
	}
	if strings.ContainsRune(scenario, os.PathSeparator) || strings.Contains(scenario, "/") ||
		strings.HasSuffix(scenario, ".xml") {
		p, err := filepath.Abs(scenario)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("sipp scenario: %w", err)
		}
		return p, nil
	}
	data, err := sippScenarios.ReadFile("testdata/sipp/" + scenario + ".xml")
	if err != nil {
		return "", fmt.Errorf("unknown sipp scenario %q (have %s)", scenario, strings.Join(SippScenarios(), ", "))
	}
	p := filepath.Join(dir, scenario+".xml")
	return p, os.WriteFile(p, data, 0o644)
}

// SippScenarios lists the names of the embedded testdata/sipp scenarios.
func SippScenarios() []string {
	ents, _ := sippScenarios.ReadDir("testdata/sipp")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".xml"); ok {
			names = append(names, n)
		}
	}
	return names
}

// pickPorts chooses a SIP port, an even media port P with P+2 free too (sipp
// binds P for audio and P+2 for video), and a control port, all UDP on
// 127.0.0.1. The sockets are held until all are chosen, so the ports differ.
func (s *Sipp) pickPorts() error {
	var held []net.PacketConn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	listen := func(port int) (int, error) {
		c, err := net.ListenPacket("udp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return 0, err
		}
		held = append(held, c)
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	var err error
	if s.port, err = listen(0); err != nil {
		return err
	}
	if s.ctlPort, err = listen(0); err != nil {
		return err
	}
	for range 100 {
		p, err := listen(0)
		if err != nil {
			return err
		}
		if p%2 != 0 || p+2 > 65535 {
			continue
		}
		if _, err := listen(p + 2); err != nil {
			continue
		}
		s.mediaPort = p
		return nil
	}
	return errors.New("no free even UDP port pair for media")
}

func (s *Sipp) args() []string {
	args := []string{
		"-sf", s.scenario,
		"-t", "u1",
		"-i", "127.0.0.1",
		"-p", strconv.Itoa(s.port),
		"-mi", "127.0.0.1",
		"-mp", strconv.Itoa(s.mediaPort),
		"-ci", "127.0.0.1",
		"-cp", strconv.Itoa(s.ctlPort),
		"-m", strconv.Itoa(s.opts.Calls),
		"-nostdin",
		"-trace_err", "-error_file", s.errorFile,
		"-trace_msg", "-message_file", s.messageFile,
		"-trace_logs", "-log_file", s.logFile,
	}
	if s.opts.RTPEcho {
		args = append(args, "-rtp_echo")
	}
	vars := make(map[string]string, len(SippDefaultVars)+len(s.opts.Vars))
	for k, v := range SippDefaultVars {
		vars[k] = v
	}
	for k, v := range s.opts.Vars {
		vars[k] = v
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "-key", k, vars[k])
	}
	return append(args, s.opts.Args...)
}

func (s *Sipp) start() error {
	for _, f := range []string{s.consoleFile, s.errorFile, s.messageFile, s.logFile} {
		os.Remove(f)
	}
	out, err := os.Create(s.consoleFile)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy

	cmd := exec.Command(s.bin, s.args()...)
	cmd.Dir = s.dir
	cmd.Stdout = out
	cmd.Stderr = out
	s.exitCode = -1
	done, err := startGroup(cmd, func(err error) {
		s.waitErr = err
		if cmd.ProcessState != nil {
			s.exitCode = cmd.ProcessState.ExitCode()
		}
	})
	if err != nil {
		return err
	}
	s.cmd, s.done = cmd, done
	return s.waitReady()
}

// waitReady polls until sipp holds its SIP, media and control sockets.
func (s *Sipp) waitReady() error {
	want := []int{s.port, s.mediaPort, s.mediaPort + 2, s.ctlPort}
	deadline := time.Now().Add(sippStartTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("sipp exited during start-up: %v (exit code %d)", s.waitErr, s.exitCode)
		default:
		}
		bound, err := udpPortsOf(s.cmd.Process.Pid)
		if err != nil {
			// No /proc: give sipp a moment and trust it if it is still up.
			select {
			case <-s.done:
				return fmt.Errorf("sipp exited during start-up: %v (exit code %d)", s.waitErr, s.exitCode)
			case <-time.After(500 * time.Millisecond):
				return nil
			}
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(p int) bool { return bound[p] })
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sipp not listening on UDP %v after %v", missing, sippStartTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// udpPortsOf returns the local ports of the IPv4 UDP sockets that process
// pid has open, from /proc.
func udpPortsOf(pid int) (map[int]bool, error) {
	inodes, err := SocketInodes(pid)
	if err != nil {
		return nil, err
	}
	socks, err := UDPSockets("udp")
	if err != nil {
		return nil, err
	}
	ports := map[int]bool{}
	for _, s := range socks {
		if inodes[s.Inode] {
			ports[s.Port] = true
		}
	}
	return ports, nil
}

// Wait waits up to timeout for sipp to exit after its Calls calls and
// returns its exit code: SippExitOK (0) when every call went through the
// scenario, SippExitFailed (1) when some failed (an unexpected message, a
// receive timeout, int_cmd="stop_call" as in the 403 branch of uas_auth).
// sipp documents 97 (int_cmd="stop_now"), 99 (no call processed) and 255
// (fatal error) too. After Stop the code means nothing: sipp exits 0 on
// SIGTERM, even with a call in progress. err is set when sipp is still
// running after timeout (it is left running; cleanup stops it) or died
// from a signal.
func (s *Sipp) Wait(timeout time.Duration) (exitCode int, err error) {
	if s.done == nil {
		return -1, errors.New("sipp was not started")
	}
	select {
	case <-s.done:
	case <-time.After(timeout):
		return -1, fmt.Errorf("sipp still running after %v", timeout)
	}
	if s.exitCode < 0 {
		return -1, fmt.Errorf("sipp: %v", s.waitErr)
	}
	return s.exitCode, nil
}

// Stop terminates sipp's process group: SIGTERM (sipp prints its final
// screens and exits), up to 3s, then SIGKILL. It is registered with
// t.Cleanup by StartSippUAS; calling it earlier is fine, and calling it
// again is a no-op.
func (s *Sipp) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	stopGroup(s.t, "sipp", s.cmd.Process.Pid, s.done, sippStopTimeout)
	s.cmd = nil
}

// Port returns sipp's SIP port (UDP on 127.0.0.1).
func (s *Sipp) Port() int { return s.port }

// HostPort returns "127.0.0.1:PORT" of sipp's SIP socket.
func (s *Sipp) HostPort() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URI returns "sip:USER@127.0.0.1:PORT" (or "sip:127.0.0.1:PORT" for user "").
func (s *Sipp) URI(user string) string {
	if user == "" {
		return "sip:" + s.HostPort()
	}
	return "sip:" + user + "@" + s.HostPort()
}

// MediaPort returns sipp's RTP port, [media_port] in its SDP (and the echo
// port with SippOptions.RTPEcho). sipp also holds MediaPort()+2 (video).
func (s *Sipp) MediaPort() int { return s.mediaPort }

// Dir returns the temporary directory with the scenario and sipp's traces.
func (s *Sipp) Dir() string { return s.dir }

// Messages returns the SIP messages sipp has sent and received so far
// (-trace_msg).
func (s *Sipp) Messages() string { return readTrace(s.messageFile) }

// ActionLog returns what the scenario's <log> actions have written
// (-trace_logs), e.g. the MESSAGE-BODY line of uas_message_check.
func (s *Sipp) ActionLog() string { return readTrace(s.logFile) }

// Log returns sipp's console output (its errors, and its final screens once
// it has exited) followed by its unexpected-message log (-trace_err).
func (s *Sipp) Log() string {
	var b strings.Builder
	b.WriteString("sipp " + strings.Join(s.args(), " ") + "\n")
	b.WriteString(readTrace(s.consoleFile))
	if e, err := os.ReadFile(s.errorFile); err == nil && len(e) > 0 {
		b.WriteString("\n--- sipp errors (" + s.errorFile + ") ---\n")
		b.Write(e)
	}
	return b.String()
}

func readTrace(file string) string {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", file, err)
	}
	return string(b)
}

// SippTraceEntry is one SIP message of sipp's message trace.
type SippTraceEntry struct {
	Sent bool   // sent by sipp (else received)
	Text string // the message, lines ending in CRLF as on the wire
}

const sippTraceSep = "----------------------------------------------- "

// Trace returns the SIP messages sipp has sent and received so far, in
// order, parsed from the -trace_msg file.
func (s *Sipp) Trace() []SippTraceEntry {
	var out []SippTraceEntry
	for _, chunk := range strings.Split(s.Messages(), sippTraceSep)[1:] {
		// chunk: "<timestamp>\n<UDP message sent (N bytes):|received [N] bytes :>\n\n<message>"
		_, rest, ok := strings.Cut(chunk, "\n")
		if !ok {
			continue
		}
		what, msg, ok := strings.Cut(rest, "\n")
		if !ok {
			continue
		}
		e := SippTraceEntry{Sent: strings.Contains(what, " sent "), Text: strings.TrimLeft(msg, "\r\n")}
		// sipp appends a blank line after each message.
		if body := strings.Index(e.Text, "\r\n\r\n"); body >= 0 {
			if n, ok := sippContentLength(e.Text[:body]); ok && body+4+n <= len(e.Text) {
				e.Text = e.Text[:body+4+n]
			}
		}
		out = append(out, e)
	}
	return out
}

// Received returns the requests of method (e.g. "INVITE"; "" for all) sipp
// has received so far, as in the trace.
func (s *Sipp) Received(method string) []string {
	var out []string
	for _, e := range s.Trace() {
		if e.Sent || strings.HasPrefix(e.Text, "SIP/2.0 ") {
			continue
		}
		if method == "" || strings.HasPrefix(e.Text, method+" ") {
			out = append(out, e.Text)
		}
	}
	return out
}

func sippContentLength(head string) (int, bool) {
	v, ok := sippHeader(head, "Content-Length")
	if !ok {
		v, ok = sippHeader(head, "l")
	}
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil && n >= 0
}

// sippHeader returns the value of the first header name (case-insensitive)
// in the head of a SIP message.
func sippHeader(msg, name string) (string, bool) {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	for l := range strings.Lines(head) {
		k, v, ok := strings.Cut(strings.TrimRight(l, "\r\n"), ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// VerifyDigest checks the digest credentials in header ("Authorization" or
// "Proxy-Authorization") of the last request sipp received with one: that
// its nonce is one sipp challenged with (in a WWW-Authenticate or
// Proxy-Authenticate it sent) and that its response is right for user and
// password (MD5, SHA-256, SHA-512-256; qop none or auth). It is the
// password check sipp's verifyauth cannot do for Proxy-Authorization.
func (s *Sipp) VerifyDigest(header, user, password string) error {
	var req, value string
	nonces := map[string]bool{}
	for _, e := range s.Trace() {
		if e.Sent {
			for _, h := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
				if v, ok := sippHeader(e.Text, h); ok {
					if c, err := digest.ParseChallenge(v); err == nil {
						nonces[c.Nonce] = true
					}
				}
			}
			continue
		}
		if v, ok := sippHeader(e.Text, header); ok {
			req, value = e.Text, v
		}
	}
	if req == "" {
		return fmt.Errorf("sipp received no request with %s", header)
	}
	cred, err := digest.ParseCredentials(value)
	if err != nil {
		return fmt.Errorf("%s %q: %w", header, value, err)
	}
	if !nonces[cred.Nonce] {
		return fmt.Errorf("%s nonce %q was not issued by sipp", header, cred.Nonce)
	}
	if cred.Username != user {
		return fmt.Errorf("%s username %q, want %q", header, cred.Username, user)
	}
	method, _, _ := strings.Cut(req, " ")
	chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: method, URI: cred.URI, Username: user, Password: password,
		Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", header, err)
	}
	if !strings.EqualFold(want.Response, cred.Response) {
		return fmt.Errorf("%s response %s, want %s for %s/%s", header, cred.Response, want.Response, user, password)
	}
	return nil
}

package phone

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/dialtone/dialtone/phone/resolve"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The rig of FuzzIncomingRequest: two real phones on loopback, b (under test) and a (its far
// end), with a call from a that b has answered: the live dialog whose Call-ID and tags the
// fuzzed requests name to reach the in-dialog code. Built once per fuzz process.

// fuzzRig is the two phones and what the fuzzed requests need to know of their call.
type fuzzRig struct {
	a, b         *Phone
	aAddr, bAddr netip.AddrPort
	handlers     map[sip.RequestMethod]sipgo.RequestHandler // b's, as sipgo's server holds them
	parser       *sip.Parser
	log          *slog.Logger
	// The call from a, answered by b (establish): ids on each side, the dialog as b sees it,
	// and a's RTP port (where b's media goes).
	aID, bID                  string
	callID, bTag, aTag        string
	aRTP                      uint16
	cseq                      uint32 // the last CSeq given to @CSEQ@: always above the dialog's
	establishments, delivered int
}

// newFuzzRig starts the phones (stopped at the end of the fuzz process) and a DNS server
// that answers every question NXDOMAIN at once: the names of fuzzed Contacts are looked up
// on loopback only, and quickly.
func newFuzzRig(tb testing.TB) *fuzzRig {
	dns := fuzzDNS(tb)
	r := &fuzzRig{parser: transferParser(), log: slog.New(slog.DiscardHandler)}
	start := func() (*Phone, netip.AddrPort) {
		res, err := resolve.New(resolve.Config{Server: dns, HostsFile: "-", Timeout: 200 * time.Millisecond, Attempts: 1})
		if err != nil {
			tb.Fatal(err)
		}
		p, err := New(Config{ListenAddr: "127.0.0.1:0", RTPTimeout: -1, KeepAlive: -1}, WithResolver(res))
		if err != nil {
			tb.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		select {
		case <-p.Ready():
		case err := <-done:
			cancel()
			tb.Fatal(err)
		}
		tb.Cleanup(func() { cancel(); <-done })
		return p, netip.MustParseAddrPort(p.SIPAddr())
	}
	r.a, r.aAddr = start()
	r.b, r.bAddr = start()
	// a refuses every call but its own (a transfer's new call to it): at once, so that the
	// transfer and its REFER end without waiting for anyone.
	r.a.SetDND(true, 486)
	r.handlers = serverHandlers(tb, r.b.runningStack().srv)
	r.establish(tb)
	return r
}

// serverHandlers is sipgo's handler table of srv: the very functions its server calls for
// each method (handleRequests filled it). sipgo keeps it unexported; a change of its name or
// type fails here, loudly, rather than fuzzing a copy of the table.
func serverHandlers(tb testing.TB, srv *sipgo.Server) map[sip.RequestMethod]sipgo.RequestHandler {
	v := reflect.ValueOf(srv).Elem().FieldByName("requestHandlers")
	want := reflect.TypeFor[map[sip.RequestMethod]sipgo.RequestHandler]()
	if !v.IsValid() || v.Type() != want {
		tb.Fatalf("sipgo.Server has no requestHandlers %v: update serverHandlers for this sipgo", want)
	}
	m := *(*map[sip.RequestMethod]sipgo.RequestHandler)(unsafe.Pointer(v.UnsafeAddr()))
	if len(m) == 0 {
		tb.Fatal("no request handlers installed")
	}
	return m
}

// fuzzDNS is a DNS server on loopback that answers every question "no such name".
func fuzzDNS(tb testing.TB) string {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return // closed at cleanup
			}
			if n < 12 {
				continue
			}
			buf[2] |= 0x80                  // a response
			buf[3] = buf[3]&0xf0 | 0x80 | 3 // recursion available, NXDOMAIN
			_, _ = conn.WriteTo(buf[:n], from)
		}
	})
	tb.Cleanup(func() { conn.Close(); wg.Wait() })
	return conn.LocalAddr().String()
}

// alive reports whether b's side of the call from a is still answered and talking.
func (r *fuzzRig) alive() bool {
	c, err := r.b.lookupCall(r.bID)
	if err != nil || c.ended() || r.b.dialogOf(r.bID) == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.talking
}

// hangUpAllBut hangs up p's calls other than keep (the fuzzed requests' calls, transfers).
func hangUpAllBut(p *Phone, keep string) {
	for _, s := range p.Calls() {
		if s.ID != keep {
			_ = p.Hangup(s.ID)
		}
	}
}

// establish ends whatever calls are left and makes a new call from a to b, answered.
func (r *fuzzRig) establish(tb testing.TB) {
	r.establishments++
	hangUpAllBut(r.a, "")
	hangUpAllBut(r.b, "")
	if !waitFor(5*time.Second, func() bool { return len(r.a.Calls()) == 0 && len(r.b.Calls()) == 0 }) {
		tb.Fatalf("calls left after hanging up: a %+v b %+v", r.a.Calls(), r.b.Calls())
	}
	var err error
	r.aID, err = r.a.Dial("", "sip:b@"+r.bAddr.String(), CallAudio{}, DialOptions{RingTimeout: 5 * time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	r.bID = ""
	if !waitFor(5*time.Second, func() bool {
		for _, s := range r.b.Calls() {
			if s.State == CallIncoming {
				r.bID = s.ID
				return true
			}
		}
		return false
	}) {
		tb.Fatal("the call from a never rang at b")
	}
	if err := r.b.Answer(r.bID, CallAudio{}); err != nil {
		tb.Fatal(err)
	}
	if !waitFor(5*time.Second, r.alive) {
		tb.Fatal("b's answer never became a confirmed dialog")
	}
	d := r.b.dialogOf(r.bID)
	c, _ := r.b.lookupCall(r.bID)
	c.mu.Lock()
	r.aRTP = c.params.Remote.Port()
	c.mu.Unlock()
	r.callID, r.bTag, r.aTag = d.callID, d.localTag, d.remoteTag
	d.cseqMu.Lock()
	r.cseq = max(r.cseq, d.remoteCSeq)
	d.cseqMu.Unlock()
}

func waitFor(d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// safeToDeliver keeps the fuzzed requests' effects on loopback, between the two phones: an
// offer whose media would go elsewhere than a's RTP port (or nowhere: hold) is not delivered,
// nor a REFER that would make b call anyone but a, nor a Replaces INVITE (answered
// at once) whose Contact is not a. Everything else reaches the handlers as it came.
func (r *fuzzRig) safeToDeliver(req *sip.Request) bool {
	to := req.To()
	inDialog := to != nil && to.Params.Has("tag")
	replaces := req.Method == sip.INVITE && req.GetHeader("Replaces") != nil
	// A new call rings and is never answered: its offer moves no media.
	if body := req.Body(); len(body) > 0 && (inDialog || replaces || req.Method != sip.INVITE) {
		if m, err := sdp.Parse(body); err == nil && m.Port != 0 && !unspecifiedAddr(m.Addr) &&
			(m.Addr != "127.0.0.1" || m.Port != int(r.aRTP) || (m.RTCPPort != 0 && m.RTCPPort != int(r.aRTP)+1)) {
			return false
		}
	}
	loopbackPeer := func(u sip.Uri) bool {
		return u.Host == "127.0.0.1" && u.Port == int(r.aAddr.Port())
	}
	if req.Method == sip.REFER {
		if hs := req.GetHeaders("Refer-To"); len(hs) == 1 {
			if t, err := parseReferTo(hs[0].Value()); err == nil && !loopbackPeer(t.URI) {
				return false
			}
		}
	}
	if replaces {
		if c := req.Contact(); c == nil || !loopbackPeer(c.Address) {
			return false
		}
	}
	return true
}

func unspecifiedAddr(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.IsUnspecified()
}

// recordingConn is the server transaction's connection: it keeps what would be sent.
type recordingConn struct {
	mu   sync.Mutex
	sent int
}

func (c *recordingConn) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
}
func (c *recordingConn) WriteMsg(sip.Message) error { c.mu.Lock(); c.sent++; c.mu.Unlock(); return nil }
func (c *recordingConn) Ref(int) int                { return 1 }
func (c *recordingConn) TryClose() (int, error)     { return 0, nil }
func (c *recordingConn) Close() error               { return nil }

// recordingTx is a real sipgo server transaction (its state machine decides what may be sent)
// that also records every response the handlers hand it.
type recordingTx struct {
	*sip.ServerTx
	mu        sync.Mutex
	responses []recordedResponse
}

type recordedResponse struct {
	res  *sip.Response
	code int
	err  error
}

func (t *recordingTx) Respond(res *sip.Response) error {
	err := t.ServerTx.Respond(res)
	t.mu.Lock()
	t.responses = append(t.responses, recordedResponse{res, int(res.StatusCode), err})
	t.mu.Unlock()
	return err
}

func (t *recordingTx) recorded() []recordedResponse {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]recordedResponse(nil), t.responses...)
}

// settled reports whether the handler has said what it will say for now: a final response,
// or a ringing INVITE's 180 (its handler runs for the call's life).
func (t *recordingTx) settled() bool {
	for _, r := range t.recorded() {
		if r.code >= 180 {
			return true
		}
	}
	return false
}

// final is the final response sent (not a retransmission refused), nil before it.
func (t *recordingTx) final() *sip.Response {
	for _, r := range t.recorded() {
		if r.code >= 200 && r.err == nil {
			return r.res
		}
	}
	return nil
}

// check applies the invariants to what the handler answered.
func (t *recordingTx) check(req *sip.Request) error {
	finals := 0
	var final *sip.Response
	for _, r := range t.recorded() {
		if r.code < 100 || r.code > 699 {
			return fmt.Errorf("%s answered %d", req.Method, r.code)
		}
		// sipgo's dialog session retransmits its 2xx through Respond until the ACK (RFC 3261
		// 13.3.1.4): the same response again is no second final response.
		if r.code >= 200 && r.err == nil && r.res != final {
			final = r.res
			finals++
		}
	}
	switch {
	case finals > 1:
		return fmt.Errorf("%s got %d final responses: %+v", req.Method, finals, t.recorded())
	case finals == 0 && req.Method != sip.ACK:
		return fmt.Errorf("%s got no final response: %+v", req.Method, t.recorded())
	}
	return nil
}

// strconvU is a CSeq for the @CSEQ@ placeholder.
func strconvU(n uint32) []byte { return strconv.AppendUint(nil, uint64(n), 10) }

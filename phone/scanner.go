package phone

import (
	"bytes"
	"encoding/hex"
	"hash/fnv"
	"log/slog"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A softphone on a public UDP port is found by SIP scanners within minutes: floods of OPTIONS
// and REGISTER (and INVITEs) from friendly-scanner, sipvicious and the like. Through sipgo
// each request would cost a goroutine, a parsed request, a server transaction that lives
// 32 s (Timer J) and an entry for its source address in the connection pool that is never
// removed; a REGISTER also logged a warning on the user's terminal ("SIP request handler not
// found") and got a 405 without the Allow header RFC 3261 8.2.1 requires.
//
// So, before the transaction layer (sipgo's transport read filter, on UDP), as Kamailio's
// default configuration and stateless replies (sl_send_reply) do:
//   - a request whose User-Agent names a scanner is dropped without an answer: answering
//     tells the scanner that something lives here;
//   - OPTIONS is answered 200 with Allow, Accept and Supported, statelessly;
//   - REGISTER is answered 405 Method Not Allowed with Allow, statelessly: a phone is not a
//     registrar.
//
// Stateless answers go to the datagram's source (never to an address the Via names, which a
// forger chooses), carry a To tag derived from the request (RFC 3261 8.2.7: a retransmission
// gets the same answer) and are traced like any other message. Over TCP and TLS a scanner
// must complete a handshake first; those requests take the ordinary path.

// scannerAgents are the User-Agent substrings of Kamailio's default configuration
// (route[REQINIT]: $ua =~ "friendly|scanner|sipcli|sipvicious|VaxSIPUserAgent|pplsip"),
// lower case; the match ignores case.
var scannerAgents = [][]byte{
	[]byte("friendly"), []byte("scanner"), []byte("sipcli"), []byte("sipvicious"),
	[]byte("vaxsipuseragent"), []byte("pplsip"),
}

// sipAccept is what the phone takes in request bodies: SDP offers, MESSAGE text, the
// sipfrag bodies of NOTIFYs about our REFERs (MESSAGE text also wrapped in CPIM).
const sipAccept = "application/sdp, text/plain, message/cpim, message/sipfrag"

// screenVerdict is what to do with a datagram read from the SIP port.
type screenVerdict int

const (
	screenPass     screenVerdict = iota // to the SIP stack as usual
	screenDrop                          // a scanner's request: no answer at all
	screenOptions                       // answer 200 statelessly
	screenRegister                      // answer 405 statelessly
)

// screen answers and drops scanner traffic before sipgo's transaction layer, and counts it.
type screen struct {
	tp        atomic.Pointer[sip.TransportLayer] // set once the user agent exists
	parser    *sip.Parser
	log       *slog.Logger
	dropped   atomic.Uint64 // scanners' requests dropped
	options   atomic.Uint64 // OPTIONS answered 200
	registers atomic.Uint64 // REGISTER answered 405
	bombs     atomic.Uint64 // datagrams dropped for a header's parameters (param_guard.go)
	told      atomic.Bool   // the log has said that scanners are being dropped
	toldBombs atomic.Bool   // … and that datagrams with too many parameters are
}

func newScreen(log *slog.Logger) *screen {
	return &screen{parser: sip.NewParser(), log: log}
}

// screenedFlowOption installs the screen and, behind it, the flow tracker's read filter in a
// new sipgo user agent: scanner traffic never reaches the flow tracker or sipgo.
func (p *Phone) screenedFlowOption(s *screen) sipgo.UserAgentOption {
	return sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(
		func(props sip.TransportReadProps, data []byte) ([]byte, error) {
			if !s.filter(props, data) {
				return nil, nil
			}
			return p.flows.readFilter(props, data)
		}))
}

// filter screens one read; false means it was answered or dropped here.
func (s *screen) filter(props sip.TransportReadProps, data []byte) bool {
	if sip.IsReliable(props.Transport) || props.RemoteAddr == nil || props.LocalAddr == nil {
		return true
	}
	if tooManyParams(data) {
		s.bombs.Add(1)
		if !s.toldBombs.Swap(true) {
			s.log.Info("dropping SIP datagrams with a header of over 100 parameters", "from", props.RemoteAddr.String(),
				"bytes", len(data))
		}
		return false
	}
	v := classifyDatagram(data)
	switch v {
	case screenDrop:
		s.dropped.Add(1)
		if !s.told.Swap(true) {
			s.log.Info("dropping requests from SIP scanners without an answer", "from", props.RemoteAddr.String(),
				"user_agent", string(userAgentOf(data)))
		}
		return false
	case screenOptions, screenRegister:
		if !s.answer(props, data, v) {
			return true // not answerable statelessly (malformed): sipgo answers or drops it
		}
		if v == screenOptions {
			s.options.Add(1)
		} else {
			s.registers.Add(1)
		}
		return false
	}
	return true
}

// answer sends the stateless answer to an OPTIONS or REGISTER, from the socket it came in on
// to the address it came from. false when the request does not parse well enough to answer.
func (s *screen) answer(props sip.TransportReadProps, data []byte, v screenVerdict) bool {
	tp := s.tp.Load()
	if tp == nil {
		return false
	}
	msg, err := s.parser.ParseSIP(data)
	if err != nil {
		return false
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		return false
	}
	want := sip.REGISTER
	if v == screenOptions {
		want = sip.OPTIONS
	}
	if req.Method != want || req.CSeq().MethodName != want {
		return false
	}
	req.SetSource(props.RemoteAddr.String()) // for rport/received (RFC 3581)
	if to := req.To(); !to.Params.Has("tag") {
		to.Params.Add("tag", statelessTag(req))
	}
	res := methodNotAllowed(req)
	if v == screenOptions {
		res = optionsAnswer(req)
	}
	c, err := tp.GetConnection("udp", props.LocalAddr.String())
	if err != nil {
		return false
	}
	defer c.TryClose() // GetConnection took a reference
	uc, ok := c.(*sip.UDPConnection)
	if !ok {
		return false
	}
	if _, err := uc.WriteTo([]byte(res.String()), props.RemoteAddr); err != nil {
		s.log.Debug("stateless answer", "to", props.RemoteAddr.String(), "code", res.StatusCode, "err", err)
	}
	return true // answered, or the answer was lost as a datagram may be: the sender retransmits
}

// onRegister answers a REGISTER that reached the transaction layer (over TCP or TLS, or one
// the screen could not parse) as the screen does: 405 with Allow. sipgo's default answer
// lacked the Allow header and logged a warning for each.
func (p *Phone) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	if err := tx.Respond(methodNotAllowed(req)); err != nil {
		p.log.Debug("respond to REGISTER", "err", err)
	}
}

// optionsAnswer is the 200 to an OPTIONS, whichever path it took: what we handle, what bodies
// we take, what extensions we support.
func optionsAnswer(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Accept", sipAccept))
	res.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
	return res
}

// methodNotAllowed is the 405 to a request of a method we do not handle (REGISTER: a phone is
// no registrar), with the Allow header RFC 3261 8.2.1 requires.
func methodNotAllowed(req *sip.Request) *sip.Response {
	res := sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	return res
}

// report logs what the screen did, when it did anything.
func (s *screen) report() {
	if s == nil {
		return
	}
	d, o, r, b := s.dropped.Load(), s.options.Load(), s.registers.Load(), s.bombs.Load()
	if d+o+r+b > 0 {
		s.log.Info("SIP requests handled without state", "scanner_requests_dropped", d, "options_answered", o, "register_refused", r,
			"too_many_parameters_dropped", b)
	}
}

// statelessTag is a To tag that depends only on the request, so that a retransmission gets
// the same one (RFC 3261 8.2.7).
func statelessTag(req *sip.Request) string {
	h := fnv.New64a()
	h.Write([]byte(req.CallID().Value()))
	h.Write([]byte{0})
	if tag, ok := req.From().Params.Get("tag"); ok {
		h.Write([]byte(tag))
	}
	h.Write([]byte{0})
	h.Write([]byte(req.CSeq().Value()))
	h.Write([]byte{0})
	if b, ok := req.Via().Params.Get("branch"); ok {
		h.Write([]byte(b))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// classifyDatagram decides from the raw bytes, without sipgo's parser, what to do with a
// datagram: only a request can be screened; a response, a keep-alive or junk passes on (the
// flow tracker's filter and sipgo deal with those).
func classifyDatagram(data []byte) screenVerdict {
	data = bytes.TrimLeft(data, "\r\n")
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || sp > 32 || !isMethodToken(data[:sp]) {
		return screenPass // a response ("SIP/2.0 ..."), or not SIP
	}
	if isScannerAgent(userAgentOf(data)) {
		return screenDrop
	}
	switch string(data[:sp]) {
	case "OPTIONS":
		return screenOptions
	case "REGISTER":
		return screenRegister
	}
	return screenPass
}

// isMethodToken: a method name is upper-case letters (RFC 3261 methods and extensions).
func isMethodToken(b []byte) bool {
	for _, c := range b {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(b) > 0
}

// userAgentOf returns the value of the first User-Agent header in the head of a SIP message,
// nil when there is none. Lines end in LF or CRLF; the head ends at the first empty line.
func userAgentOf(data []byte) []byte {
	_, rest, ok := bytes.Cut(data, []byte("\n")) // past the request line
	if !ok {
		return nil
	}
	for len(rest) > 0 {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return nil // the end of the head
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok &&
			bytes.EqualFold(bytes.TrimSpace(name), []byte("User-Agent")) {
			return bytes.TrimSpace(value)
		}
		rest = next
	}
	return nil
}

// isScannerAgent reports whether a User-Agent value names a known scanner.
func isScannerAgent(ua []byte) bool {
	if len(ua) == 0 {
		return false
	}
	lower := bytes.ToLower(ua)
	for _, s := range scannerAgents {
		if bytes.Contains(lower, s) {
			return true
		}
	}
	return false
}

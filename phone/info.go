package phone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/codec"
	"github.com/emiago/sipgo/sip"
)

// DTMF by SIP INFO: what PBXs and gateways send when RTP events were not negotiated (or are
// configured off). There is no standard body; the two in use are Cisco's
// application/dtmf-relay ("Signal=5\r\nDuration=160\r\n") and application/dtmf (the digit
// alone). Both arrive as the same DTMFReceived event as RFC 4733 digits.

// dtmfInfoTypes is the Accept header of a 415: the INFO bodies we understand.
const dtmfInfoTypes = "application/dtmf-relay, application/dtmf"

// maxDTMFInfoBody bounds what the parser reads: a real body is a few dozen bytes.
const maxDTMFInfoBody = 1024

// onInfo answers an INFO: 481 outside a dialog of ours, 415 for a body we do not know, 400
// for a DTMF body without a digit, else 200 and the digit published. An INFO without a body
// is a dialog probe (RFC 6086 does not forbid it, some UAs send it): 200, nothing published.
func (p *Phone) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	c := p.callForRequest(req)
	if c == nil {
		respond(481, "Call/Transaction Does Not Exist")
		return
	}
	if p.refuseOutOfOrder(c, req, tx) {
		return // a replayed INFO must not press its key again
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if len(req.Body()) == 0 {
		respond(200, "OK")
		return
	}
	digit, err := parseDTMFInfo(ct, req.Body())
	switch {
	case errors.Is(err, errInfoType):
		p.log.Info("INFO refused", "call", c.id, "content_type", ct)
		respond(415, "Unsupported Media Type", sip.NewHeader("Accept", dtmfInfoTypes))
		return
	case errors.Is(err, errNoSignal):
		respond(200, "OK") // a flash or another event without a key: understood, nothing to show
		return
	case err != nil:
		p.log.Info("INFO refused", "call", c.id, "content_type", ct, "err", err)
		respond(400, "Bad Request")
		return
	}
	// The digit before the answer: the far end sends its next INFO once this one is answered,
	// and sipgo runs that one's handler on a goroutine of its own, so a digit published after
	// the 200 could come out after the next one's (sipp's "5##" came out "#5#" under -race).
	p.publish(DTMFReceived{Time: p.clock.Now(), CallID: c.id, Digit: digit})
	respond(200, "OK")
}

var (
	errInfoType = errors.New("not a DTMF INFO body")
	errNoSignal = errors.New("an event without a keypad key")
)

// parseDTMFInfo returns the digit an INFO body carries. ct is the Content-Type header value
// (parameters and case ignored). It returns errInfoType for other types, errNoSignal for a
// valid event that is no key (hook flash, Signal=16 or '!'), another error for a bad body.
func parseDTMFInfo(ct string, body []byte) (rune, error) {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if len(body) > maxDTMFInfoBody {
		if mt == "application/dtmf-relay" || mt == "application/dtmf" {
			return 0, fmt.Errorf("dtmf INFO body of %d bytes", len(body))
		}
		return 0, errInfoType
	}
	switch mt {
	case "application/dtmf-relay":
		return parseDTMFRelay(string(body))
	case "application/dtmf":
		return dtmfSignal(strings.TrimSpace(string(body)))
	}
	return 0, errInfoType
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160": key=value lines in any order, keys in any
// case, blanks around both; Duration (and anything else) is not needed to report the digit.
func parseDTMFRelay(body string) (rune, error) {
	for line := range strings.Lines(body) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		return dtmfSignal(strings.TrimSpace(v))
	}
	return 0, errors.New("dtmf-relay body without Signal=")
}

// dtmfSignal maps a signal value to a key: the key itself (0-9 * # A-D, a-d) or, as some
// gateways send, its RFC 4733 event code (10 for *, 11 for #, 12-15 for A-D).
func dtmfSignal(v string) (rune, error) {
	if v == "" {
		return 0, errors.New("dtmf INFO: empty signal")
	}
	if v == "!" || v == "16" {
		return 0, errNoSignal // hook flash
	}
	if len(v) == 1 {
		if ev, ok := codec.DigitEvent(rune(v[0])); ok {
			d, _ := codec.EventDigit(ev) // upper-cases a-d
			return d, nil
		}
	} else if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 15 {
		d, _ := codec.EventDigit(uint8(n))
		return d, nil
	}
	return 0, fmt.Errorf("dtmf INFO: signal %q is no DTMF key", v)
}

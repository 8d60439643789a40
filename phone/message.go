package phone

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dialtone/dialtone/phone/charset"
	"github.com/emiago/sipgo/sip"
)

// MaxMessageBytes is the largest instant message we send or accept. SIP over UDP cannot carry
// much more than this in one datagram, and RFC 3428 asks for MESSAGE bodies of at most 1300
// bytes unless congestion control is known to be in place; we allow a little more over any
// transport and refuse larger ones cleanly (413), never truncate.
const MaxMessageBytes = 4096

// Message is an instant message sent or received (RFC 3428); it is also the event.
type Message struct {
	Time      time.Time
	Direction Direction
	Account   string
	Peer      string // the other party's URI
	PeerName  string
	Text      string
	// Status is "received", "sent" or "failed"; Code and Reason the final response for sent
	// ones, Failure why it failed.
	Status  string
	Code    int
	Reason  string
	Failure Failure
	Err     error
}

// EventTime implements Event.
func (m Message) EventTime() time.Time { return m.Time }

// MessageStore keeps messages: an incoming MESSAGE is answered 200 only once it is stored (or,
// when the store fails, once a front end was given it: message_unkept.go), and a
// retransmission (same Call-ID, CSeq, sender and text, within a minute or so) is recognised:
// by SeenMessage, or, for a copy that raced the first one past it, by SaveMessage returning
// ErrDuplicateMessage. Later, the same key is a new message: some peers reuse a Call-ID and
// CSeq. phone/store implements it.
type MessageStore interface {
	SeenMessage(ctx context.Context, m Message, sipCallID string, cseq uint32) (bool, error)
	SaveMessage(ctx context.Context, m Message, sipCallID string, cseq uint32) error
}

// PendingMessages is a MessageStore that keeps a message we send before its answer comes: saved
// as "pending" when it leaves, then settled with the outcome. A process that stops mid-send (a
// crash, a quit that cancels the send) leaves it in the history unconfirmed, neither lost nor
// called failed when it may have been delivered.
type PendingMessages interface {
	SavePending(ctx context.Context, m Message) (id int64, err error)
	Settle(ctx context.Context, id int64, m Message) error
}

// ErrDuplicateMessage is what a MessageStore's SaveMessage returns (wrapped) for an incoming
// message it holds already: it is answered and not shown again.
var ErrDuplicateMessage = errors.New("message stored already")

// SendMessage sends text to target (a SIP URI, user@host, or a user completed with the
// account's domain) through account ("" for a direct message with no account). It returns
// when the far end has answered: nil on 2xx, else an *Error whose Failure says why.
func (p *Phone) SendMessage(ctx context.Context, accountName, target, text string) error {
	stk := p.runningStack()
	if stk == nil {
		return ErrNotRunning
	}
	if !utf8.ValidString(text) {
		return &Error{Op: "message", Failure: FailureConfig, Reason: "the text is not valid UTF-8"}
	}
	if len(text) > MaxMessageBytes {
		return &Error{Op: "message", Failure: FailureConfig, Reason: fmt.Sprintf("the text is %d bytes; at most %d fit in one SIP MESSAGE", len(text), MaxMessageBytes)}
	}
	acc, err := p.findAccount(accountName)
	if err != nil {
		return err
	}
	uri, err := parseTarget(target, acc)
	if err != nil {
		return &Error{Op: "message", Failure: FailureConfig, Reason: err.Error(), Err: err}
	}
	op := "message " + uri.String()
	// Its time is when it was sent, not answered: the history keeps the order they were written.
	m := Message{Time: p.clock.Now(), Direction: Outgoing, Peer: uri.String(), Text: text, Status: "pending"}
	if acc != nil {
		m.Account = acc.Name
	}
	pending, pendingID := p.savePending(ctx, m)
	res, sendErr := p.sendMessage(ctx, stk, acc, uri, text, op)
	m.Status = "sent"
	if sendErr != nil {
		var pe *Error
		errors.As(sendErr, &pe)
		m.Status, m.Err = "failed", sendErr
		if pe != nil {
			m.Code, m.Reason, m.Failure = pe.Code, pe.Reason, pe.Failure
		}
	} else {
		// As answered: a 202 (RFC 3428 §7: accepted, not yet delivered, as by a store-and-
		// forward server) is not a 200.
		m.Code, m.Reason = int(res.StatusCode), res.Reason
	}
	switch store := p.cfg.Messages; {
	case pending != nil && m.Code == 0 && sendErr != nil && errors.Is(ctx.Err(), context.Canceled):
		// Given up by our side (a quit, Ctrl-C) before any answer: it may have been delivered,
		// so the history keeps it pending rather than failed. (A timeout we set is an outcome:
		// failed, as the send says.)
	case pending != nil:
		if err := pending.Settle(context.WithoutCancel(ctx), pendingID, m); err != nil {
			p.log.Info("store sent message", "err", err) // the store's owner says it once
		}
	case store != nil:
		if err := store.SaveMessage(context.WithoutCancel(ctx), m, "", 0); err != nil {
			p.log.Info("store sent message", "err", err)
		}
	}
	p.publish(m)
	return sendErr
}

// savePending saves m, about to be sent, as pending when the store keeps pending messages; nil
// when it does not or could not (the message is then saved once answered, as by SaveMessage).
func (p *Phone) savePending(ctx context.Context, m Message) (PendingMessages, int64) {
	pm, ok := p.cfg.Messages.(PendingMessages)
	if !ok {
		return nil, 0
	}
	id, err := pm.SavePending(context.WithoutCancel(ctx), m)
	if err != nil {
		p.log.Info("store message being sent", "err", err)
		return nil, 0
	}
	return pm, id
}

func (p *Phone) sendMessage(ctx context.Context, stk *stack, acc *account, uri sip.Uri, text, op string) (*sip.Response, error) {
	l, err := p.legFor(ctx, stk, acc, uri)
	if err != nil {
		return nil, err
	}
	req := p.newMessageRequest(l, uri, text)
	var tried []attempt
	for i, t := range l.targets {
		if i > 0 {
			req = retryOf(req)
			if l.transport == UDP {
				// Back on the leg's transport: a long message went to the last server by TCP
				// (sendMessageTo), and this one may take none.
				viaTransport(req, UDP)
			}
			req.SetDestination(t.Addr.String())
			routeVia(req, req.Destination())
		}
		res, err := p.sendMessageTo(ctx, stk, l, acc, req, op, timeoutFor(len(l.targets)))
		if err == nil || ctx.Err() != nil || !failsOver(err) {
			return res, err
		}
		tried = append(tried, attempt{t, err})
		p.log.Info("message: server did not answer; trying the next", "target", t.String(), "err", err)
	}
	return nil, failoverError(op, tried)
}

// sendMessageTo sends req to its destination, answering one challenge. On a UDP leg, a request
// too long for one datagram goes by TCP, or by UDP after all if the server takes no TCP
// connection (message_size.go).
func (p *Phone) sendMessageTo(ctx context.Context, stk *stack, l *leg, acc *account, req *sip.Request, op string, timeout time.Duration) (*sip.Response, error) {
	var auth challenges
	var answers digestAnswers
	noTCP := false    // the server takes no TCP connection: long requests go by UDP
	tcpAsked := false // whether it does was found out (tcpOpens), once
	for {
		t, client := l.transport, l.client
		if t == UDP && !noTCP && tooBigForUDP(req) { // each time: a challenge's answer makes the request larger
			if !tcpAsked {
				tcpAsked = true
				// A firewall that drops TCP gives no refusal, and sipgo's dial would wait out
				// the caller's whole timeout (or each server's 5 s): UDP after all, at once.
				if noTCP = !tcpOpens(ctx, req.Destination()); noTCP {
					p.log.Info("message: the server takes no TCP connection; the long message goes by UDP", "target", req.Destination())
				}
			}
			if !noTCP {
				viaTransport(req, TCP)
				// The leg's client sends from the UDP socket's address, and sipgo would then
				// take any TCP connection made from that address, whatever server it goes to.
				var err error
				if client, err = stk.clients.get(stk.ua, stk.sipLog, clientKey{}); err != nil {
					return nil, &Error{Op: op, Failure: FailureNetwork, Reason: "no TCP client", Err: err}
				}
				t = TCP
			}
		}
		res, err := doAttempt(ctx, client, req, t, req.Destination(), timeout)
		if err != nil {
			if t != l.transport && ctx.Err() == nil && couldNotConnect(err) {
				p.log.Info("message: no TCP connection to the server; the long message goes by UDP", "target", req.Destination(), "err", err)
				noTCP = true
				viaTransport(req, UDP)
				continue
			}
			e := transportError(op, req.Destination(), t, err)
			if t != l.transport {
				e.Reason = fmt.Sprintf("the message is too long for one UDP datagram, so it went by TCP (RFC 3261 §18.1.1): %s", e.Reason)
			}
			return nil, e
		}
		switch {
		case res.IsSuccess():
			return res, nil
		case (res.StatusCode == 401 || res.StatusCode == 407) && acc != nil && auth.mayAnswer(res):
			pw, err := p.wire(acc.Name).passwordFor(ctx)
			if err != nil {
				return nil, &Error{Op: op, Failure: FailureConfig, Reason: "no password", Err: err}
			}
			next := retryOf(req)
			answers.add(res, acc.AuthUser, pw)
			if err := answers.apply(next); err != nil { // each challenge so far, each with its next nonce-count
				return nil, &Error{Op: op, Failure: FailureRefused, Code: int(res.StatusCode), Reason: res.Reason, Err: err}
			}
			req = next
		default:
			return nil, responseError(op, res, auth.sent())
		}
	}
}

func (p *Phone) newMessageRequest(l *leg, target sip.Uri, text string) *sip.Request {
	req := p.newOutOfDialogRequest(l, sip.MESSAGE, target)
	ct := sip.ContentTypeHeader("text/plain;charset=utf-8")
	req.AppendHeader(&ct)
	req.SetBody([]byte(text))
	return req
}

func (p *Phone) findAccount(name string) (*account, error) {
	if name == "" {
		return nil, nil
	}
	for _, x := range p.accountList() {
		if x.Name == name {
			return x, nil
		}
	}
	return nil, &Error{Op: "account", Failure: FailureConfig, Reason: fmt.Sprintf("no account named %q", name)}
}

// acceptedTypes is what we answer 415 with: plain text (in any charset IANA names, shown as
// UTF-8), and plain text wrapped in CPIM.
const acceptedTypes = "text/plain;charset=utf-8, message/cpim"

// checkMessageBody decides whether an incoming MESSAGE body is text we show, and gives it as
// UTF-8; else the response code and reason. text/plain in UTF-8 (or "utf8", US-ASCII) is taken
// as it is; another charset (ISO-8859-1, windows-1252 from older gateways) is decoded; a
// message/cpim body (RFC 3862, IMDN-capable clients such as Linphone) is unwrapped to the
// text/plain it carries.
func checkMessageBody(contentType string, body []byte) (string, int, string) {
	return checkBody(contentType, body, true)
}

func checkBody(contentType string, body []byte, cpimAllowed bool) (string, int, string) {
	if contentType == "" {
		contentType = "text/plain" // RFC 3428 requires one, but a missing one is plain text in practice
	}
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err == nil && mt == "message/cpim" && cpimAllowed:
		if len(body) > MaxMessageBytes+cpimRoom {
			return "", 413, "Request Entity Too Large"
		}
		inner, innerBody, ok := unwrapCPIM(body)
		if !ok {
			return "", 400, "Bad Request (message/cpim)"
		}
		return checkBody(inner, innerBody, false) // the limit is the text's, not the wrapper's
	case len(body) > MaxMessageBytes:
		return "", 413, "Request Entity Too Large"
	case err != nil || mt != "text/plain":
		return "", 415, "Unsupported Media Type"
	}
	text, ok := decodeText(params["charset"], body)
	if !ok {
		return "", 415, "Unsupported Media Type" // a charset we do not know, or UTF-8 that is not
	}
	return text, 0, "" // decoded, Latin letters may take more than the 4096 bytes they came in
}

// cpimRoom is what a CPIM wrapper may add to a message's text: its message and content headers.
const cpimRoom = 2048

// decodeText gives body, in charset cs ("" for UTF-8), as valid UTF-8.
func decodeText(cs string, body []byte) (string, bool) {
	if cs == "" {
		cs = "utf-8"
	}
	text, err := charset.Decode(cs, body)
	return text, err == nil && utf8.ValidString(text)
}

// unwrapCPIM takes the content out of a message/cpim body (RFC 3862 §2): the message headers,
// a blank line, the content's MIME headers, a blank line, the content (kept as it came, but for
// a line end closing it). Its Content-Type ("" if it names none; a header folded over lines is
// joined); false if the body is not CPIM.
func unwrapCPIM(body []byte) (contentType string, content []byte, ok bool) {
	_, rest, ok := cutBlankLine(string(body)) // the message headers (From, To, DateTime, NS, imdn.…)
	if !ok {
		return "", nil, false
	}
	mimeHeaders, text, ok := cutBlankLine(rest)
	if !ok {
		return "", nil, false
	}
	var name, value string
	take := func() {
		if strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
			contentType = strings.TrimSpace(value)
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(mimeHeaders, "\r\n", "\n"), "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') { // folded: the header goes on
			value += " " + strings.TrimSpace(line)
			continue
		}
		take()
		name, value, _ = strings.Cut(line, ":")
	}
	take()
	text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
	return contentType, []byte(text), true
}

// cutBlankLine splits s at its first blank line (CRLF CRLF, or LF LF from a sender that writes
// bare line ends).
func cutBlankLine(s string) (before, after string, found bool) {
	crlf, lf := strings.Index(s, "\r\n\r\n"), strings.Index(s, "\n\n")
	switch {
	case crlf >= 0 && (lf < 0 || crlf < lf):
		return s[:crlf], s[crlf+4:], true
	case lf >= 0:
		return s[:lf], s[lf+2:], true
	}
	return s, "", false
}

// messageKey tells an incoming message from others for recentMessages: a retransmission has
// the same Call-ID, CSeq, sender and text (hashed: 4096 keys of long texts would hold 16 MB).
// A peer that reuses a Call-ID and CSeq with other text sends a new message.
func messageKey(callID string, cseq uint32, m Message) string {
	h := fnv.New64a()
	h.Write([]byte(m.Text))
	return fmt.Sprintf("%s|%d|%s|%x", callID, cseq, m.Peer, h.Sum64())
}

// onMessage answers an incoming MESSAGE: 200 once stored (and shown), 415 for bodies we do not
// show, 413 for oversized ones; a retransmission gets 200 again and nothing else.
func (p *Phone) onMessage(req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	text, code, reason := checkMessageBody(ct, req.Body())
	if code != 0 {
		p.log.Info("incoming MESSAGE refused", "code", code, "content_type", ct, "bytes", len(req.Body()))
		if code == 415 {
			respond(code, reason, sip.NewHeader("Accept", acceptedTypes))
		} else {
			respond(code, reason)
		}
		return
	}
	from := req.From()
	callID, cseq := "", uint32(0)
	if h := req.CallID(); h != nil {
		callID = string(*h)
	}
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	m := Message{Time: p.clock.Now(), Direction: Incoming, Status: "received", Text: text}
	if from != nil {
		m.Peer, m.PeerName = from.Address.String(), unquoteDisplay(from.DisplayName)
	}
	if acc := p.accountFor(req); acc != nil {
		m.Account = acc.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := messageKey(callID, cseq, m)
	if st := p.cfg.Messages; st != nil {
		dup, err := st.SeenMessage(ctx, m, callID, cseq)
		// Also when the store could not tell: then a copy of one shown already (unkeptMessage
		// remembers it) is not charged.
		if !dup && !(err != nil && p.recent.has(key, m.Time)) && !p.withinMessageLimit(m, respond) {
			return
		}
		if err == nil && !dup {
			err = st.SaveMessage(ctx, m, callID, cseq)
			if errors.Is(err, ErrDuplicateMessage) {
				// Two copies at once (sipgo runs each request on its own goroutine: a
				// retransmission on a new branch, a proxy forking to two of our bindings),
				// both past SeenMessage: the store kept one, and one is shown.
				dup, err = true, nil
			}
		}
		switch {
		case err != nil: // a full disk: shown if a front end listens (message_unkept.go)
			p.unkeptMessage(err, key, m, respond)
			return
		case dup:
			respond(200, "OK")
			return
		}
	} else if p.recent.has(key, m.Time) {
		respond(200, "OK")
		return
	} else if !p.withinMessageLimit(m, respond) {
		return // not remembered: a copy that comes once the budget allows is taken
	} else if p.recent.seen(key, m.Time) {
		respond(200, "OK") // a copy raced this one past has
		return
	}
	// Shown before it is answered, as a DTMF INFO's digit (info.go): a sender that sends its
	// next message once this one is answered must not see them shown the other way round.
	p.publish(m)
	respond(200, "OK")
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

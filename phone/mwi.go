package phone

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Message waiting (RFC 3842): a PBX or provider tells a phone that voicemail waits with a
// NOTIFY of the message-summary event. Asterisk and FreePBX send it unsolicited, out of any
// dialog, to the Contact an account registered, as soon as the mailbox changes and after each
// registration. Such a NOTIFY used to get 481 and the user never learnt of new voicemail.
// It now gets 200, and a change of what it says is published as a Voicemail event, which the
// front ends show. (Subscribing for it, as some providers want, is not done.)

// Voicemail is an account's mailbox as its server last reported it; also the change event.
type Voicemail struct {
	Time    time.Time
	Account string
	// Waiting says whether new messages of any kind wait (Messages-Waiting).
	Waiting bool
	// New and Old count voice messages, their urgent ones among them; Counted is false when
	// the server gave no Voice-Message line (only Waiting is known then).
	Counted              bool
	New, Old             int
	UrgentNew, UrgentOld int
	// MessageAccount is the mailbox's URI, when the server names it (the number to call).
	MessageAccount string
}

// EventTime implements Event.
func (v Voicemail) EventTime() time.Time { return v.Time }

func (v Voicemail) same(w Voicemail) bool {
	v.Time, w.Time = time.Time{}, time.Time{}
	return v == w
}

// maxSummaryBytes bounds the body read: a summary is a few short lines.
const maxSummaryBytes = 4096

// maxMessageCount bounds a count read from the network (RFC 3842 allows none; a mailbox holds
// at most a few thousand).
const maxMessageCount = 1_000_000

var errSummary = errors.New("message summary")

// parseMessageSummary reads an application/simple-message-summary body (RFC 3842 §5.2):
// "Messages-Waiting: yes|no", then optionally "Message-Account: URI" and a line per message
// class ("Voice-Message: 2/8 (0/2)": new/old, and of them urgent new/old). Names are read
// regardless of case; lines end in CRLF or LF; classes other than voice and lines after the
// summary (optional headers of the messages) are skipped.
func parseMessageSummary(body []byte) (Voicemail, error) {
	var v Voicemail
	if len(body) > maxSummaryBytes {
		return v, fmt.Errorf("%w: %d bytes, at most %d", errSummary, len(body), maxSummaryBytes)
	}
	status := false
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\r\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue // a blank line before the optional headers, or their text
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				v.Waiting = true
			case "no":
				v.Waiting = false
			default:
				return v, fmt.Errorf("%w: Messages-Waiting %q: want yes or no", errSummary, value)
			}
			status = true
		case "message-account":
			v.MessageAccount = value
		case "voice-message":
			if err := v.readCounts(value); err != nil {
				return v, err
			}
		}
	}
	if !status {
		return v, fmt.Errorf("%w: no Messages-Waiting line", errSummary)
	}
	return v, nil
}

// readCounts reads "new/old" and an optional "(urgent-new/urgent-old)".
func (v *Voicemail) readCounts(s string) error {
	counts, urgent, hasUrgent := strings.Cut(s, "(")
	var err error
	if v.New, v.Old, err = slashPair(counts); err != nil {
		return fmt.Errorf("%w: Voice-Message %q: %v", errSummary, s, err)
	}
	if hasUrgent {
		u, ok := strings.CutSuffix(strings.TrimSpace(urgent), ")")
		if !ok {
			return fmt.Errorf("%w: Voice-Message %q: no closing parenthesis", errSummary, s)
		}
		if v.UrgentNew, v.UrgentOld, err = slashPair(u); err != nil {
			return fmt.Errorf("%w: Voice-Message %q: %v", errSummary, s, err)
		}
	}
	v.Counted = true
	return nil
}

// slashPair reads "a/b", two counts.
func slashPair(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("want new/old")
	}
	n, err := count(a)
	if err != nil {
		return 0, 0, err
	}
	m, err := count(b)
	return n, m, err
}

func count(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > maxMessageCount {
		return 0, fmt.Errorf("%q is not a count of messages", strings.TrimSpace(s))
	}
	return n, nil
}

// onMessageSummary answers a NOTIFY of the message-summary event and publishes what it says
// when that changed. It is taken whether or not it names a dialog (a To tag): we never
// subscribe, so whatever comes is the server's unsolicited report, which some servers send
// with a To tag of their own.
func (p *Phone) onMessageSummary(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		if err := tx.Respond(res); err != nil {
			p.log.Debug("respond to NOTIFY", "event", "message-summary", "code", code, "err", err)
		}
	}
	acc := p.accountFor(req)
	if acc == nil {
		respond(481, "Subscription Does Not Exist") // no account: no mailbox
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/simple-message-summary" {
		respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/simple-message-summary"))
		return
	}
	v, err := parseMessageSummary(req.Body())
	if err != nil {
		p.log.Info("NOTIFY refused", "event", "message-summary", "account", acc.Name, "err", err)
		respond(400, "Bad Request")
		return
	}
	respond(200, "OK")
	v.Time, v.Account = p.clock.Now(), acc.Name
	p.mu.Lock()
	old, seen := p.voicemail[acc.Name]
	if !seen || !old.same(v) {
		if p.voicemail == nil {
			p.voicemail = map[string]Voicemail{}
		}
		p.voicemail[acc.Name] = v
		p.bus.publish(v)
	}
	p.mu.Unlock()
}

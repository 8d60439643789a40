package phone

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Message waiting (RFC 3842): a PBX or provider tells a phone that voicemail waits with a
// NOTIFY of the message-summary event. Asterisk and FreePBX send it unsolicited, out of any
// dialog, to the Contact an account registered (for an endpoint's mailboxes), as soon as the
// mailbox changes and after each registration. Such a NOTIFY used to get 481 and the user never learnt of new voicemail.
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

// Summary says what v reports, for people: "voicemail waiting: 2 new (1 urgent), 8 old",
// "voicemail: 0 new, 3 old", "voicemail waiting" or "no new voicemail", then "; mailbox URI"
// when the server named it. Waiting is said also when no voice message is new: another kind
// of message waits.
func (v Voicemail) Summary() string {
	s := "no new voicemail"
	switch {
	case v.Counted:
		s = "voicemail"
		if v.Waiting {
			s = "voicemail waiting"
		}
		s += fmt.Sprintf(": %d new", v.New)
		if v.UrgentNew > 0 {
			s += fmt.Sprintf(" (%d urgent)", v.UrgentNew)
		}
		s += fmt.Sprintf(", %d old", v.Old)
	case v.Waiting:
		s = "voicemail waiting"
	}
	if v.MessageAccount != "" {
		s += "; mailbox " + v.MessageAccount
	}
	return s
}

func (v Voicemail) same(w Voicemail) bool {
	v.Time, w.Time = time.Time{}, time.Time{}
	return v == w
}

// maxSummaryBytes bounds the summary read (the lines before the optional message headers): a
// summary is a few short lines.
const maxSummaryBytes = 4096

// maxMessageCount bounds a count read from the network (RFC 3842 allows none; a mailbox holds
// at most a few thousand).
const maxMessageCount = 1_000_000

var errSummary = errors.New("message summary")

// parseMessageSummary reads an application/simple-message-summary body (RFC 3842 §5.2):
// "Messages-Waiting: yes|no", then optionally "Message-Account: URI" and a line per message
// class ("Voice-Message: 2/8 (0/2)": new/old, and of them urgent new/old). Names are read
// regardless of case; lines end in CRLF or LF; classes other than voice are skipped, and the
// summary ends at the first empty line (the optional headers of the messages follow it).
func parseMessageSummary(body []byte) (Voicemail, error) {
	var v Voicemail
	status, read := false, 0
	for line := range strings.Lines(string(body)) {
		if read += len(line); read > maxSummaryBytes {
			return v, fmt.Errorf("%w: over %d bytes", errSummary, maxSummaryBytes)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			if status {
				break // the messages' own headers follow
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
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
				return v, fmt.Errorf("%w: Messages-Waiting %.40q: want yes or no", errSummary, value)
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
	v.UrgentNew, v.UrgentOld = 0, 0 // a second line is read afresh
	counts, urgent, hasUrgent := strings.Cut(s, "(")
	var err error
	if v.New, v.Old, err = slashPair(counts); err != nil {
		return fmt.Errorf("%w: Voice-Message %.40q: %v", errSummary, s, err)
	}
	if hasUrgent {
		u, ok := strings.CutSuffix(strings.TrimSpace(urgent), ")")
		if !ok {
			return fmt.Errorf("%w: Voice-Message %.40q: no closing parenthesis", errSummary, s)
		}
		if v.UrgentNew, v.UrgentOld, err = slashPair(u); err != nil {
			return fmt.Errorf("%w: Voice-Message %.40q: %v", errSummary, s, err)
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
		return 0, fmt.Errorf("%.20q is not a count of messages", strings.TrimSpace(s))
	}
	return n, nil
}

// Anyone who can reach our port can send such a NOTIFY. What it can do is bounded: each
// account's shown state changes mwiBurst times at once and once every mwiEvery after that (a
// server reports once per change of the mailbox and per registration); a change beyond gets
// 503 with Retry-After and is not shown. Only a change spends the budget: a NOTIFY refused, or
// one that repeats what is shown, costs nothing, so junk cannot keep the server's report out.
const (
	mwiBurst = 10
	mwiEvery = 10 * time.Second
)

// onMessageSummary answers a NOTIFY of the message-summary event and publishes what it says
// when that changed. It is taken whether or not it names a dialog (a To tag): we never
// subscribe, so whatever comes is the server's unsolicited report, which some servers send
// with a To tag of their own, and with any Subscription-State (Asterisk's reads "terminated").
func (p *Phone) onMessageSummary(req *sip.Request, tx sip.ServerTransaction) {
	respond := p.responder(req, tx)
	acc := p.mailboxAccount(req)
	if acc == nil {
		respond(481, "Subscription Does Not Exist") // no account of that user: no mailbox of ours
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if len(req.Body()) == 0 {
		respond(200, "OK") // a NOTIFY with no summary (RFC 6665 §4.1.3): nothing changes
		return
	}
	// A parameter mime cannot read (a repeated charset, say) does not make the type another.
	if mt, _, err := mime.ParseMediaType(ct); err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) || mt != "application/simple-message-summary" {
		respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/simple-message-summary"))
		return
	}
	v, err := parseMessageSummary(req.Body())
	if err != nil {
		p.log.Debug("NOTIFY refused", "event", "message-summary", "account", acc.Name, "err", err)
		respond(400, "Bad Request")
		return
	}
	v.Time, v.Account = p.clock.Now(), acc.Name
	if wait := p.takeVoicemail(v); wait > 0 {
		respond(503, "Service Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(int(wait.Seconds())+1)))
		return
	}
	respond(200, "OK")
}

// takeVoicemail records and publishes v when it changes what its account shows and the
// account's budget allows; else it returns how long until the budget does (0: v was taken, or
// changed nothing).
func (p *Phone) takeVoicemail(v Voicemail) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, seen := p.voicemail[v.Account]; seen && old.same(v) {
		return 0
	}
	if wait := p.mwiBudgetLocked(v.Account); wait > 0 {
		return wait
	}
	if p.voicemail == nil {
		p.voicemail = map[string]Voicemail{}
	}
	p.voicemail[v.Account] = v
	p.bus.publish(v)
	return 0
}

// mailboxAccount is the account a message-summary NOTIFY is for: the one whose AOR user its
// Request-URI names (our Contact, which carries it), else its To; with one account, that one
// whatever the NOTIFY names (it reached the Contact that account registered). nil when
// several accounts are configured and none is named: the report is not shown on a wrong one.
func (p *Phone) mailboxAccount(req *sip.Request) *account {
	accounts := p.accountList()
	users := []string{req.Recipient.User}
	if to := req.To(); to != nil {
		users = append(users, to.Address.User)
	}
	for _, u := range users {
		for _, a := range accounts {
			if u != "" && strings.EqualFold(unescapeUser(a.aor.User), unescapeUser(u)) {
				return a
			}
		}
	}
	if len(accounts) == 1 {
		return accounts[0]
	}
	return nil
}

// unescapeUser is a URI's user part with its %-escapes decoded, as given when it has a bad one.
func unescapeUser(u string) string {
	if d, err := url.PathUnescape(u); err == nil {
		return d
	}
	return u
}

// mwiBudgetLocked takes a token of account's budget of changes; 0 when there was one, else how
// long until there is. p.mu is held.
func (p *Phone) mwiBudgetLocked(account string) time.Duration {
	if p.mwiBudgets == nil {
		p.mwiBudgets = map[string]*tokenBucket{}
	}
	b := p.mwiBudgets[account]
	if b == nil {
		b = &tokenBucket{}
		p.mwiBudgets[account] = b
	}
	return b.take(p.clock.Now(), mwiBurst, 1/mwiEvery.Seconds())
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
	"github.com/dialtone/dialtone/ui/common"
)

// printer writes events for people (short lines) or for programs (NDJSON, one object a line,
// always with "event" and "time"). The JSON field names are a documented interface.
type printer struct {
	w        io.Writer
	json     bool
	answered map[string]bool // calls whose "answered" is printed (headless_hold.go)
	// last is each call's state last printed: a redirected call's status repeats its state
	// with the new peer, which the "redirected" line says already (headless_hold.go).
	last map[string]phone.CallState
	// justRedirected: calls whose "redirected" line was just printed, so the "calling" status with
	// the new peer that follows it is not printed too (headless_hold.go).
	justRedirected map[string]bool
	names          *contactNames // the address book's names for peers (contacts_names.go); nil: none
}

// record is one NDJSON line. Optional fields are omitted when empty.
type record struct {
	Event   string   `json:"event"`
	Time    string   `json:"time"`
	Account string   `json:"account,omitempty"`
	AOR     string   `json:"aor,omitempty"`
	Code    int      `json:"code,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Failure string   `json:"failure,omitempty"`
	Error   string   `json:"error,omitempty"`
	Expires *int     `json:"expires,omitempty"`
	Contact string   `json:"contact,omitempty"`
	RetryIn *float64 `json:"retry_in,omitempty"`

	CallID    string   `json:"call_id,omitempty"`
	SIPCallID string   `json:"sip_call_id,omitempty"`
	Direction string   `json:"direction,omitempty"`
	Peer      string   `json:"peer,omitempty"`
	PeerName  string   `json:"peer_name,omitempty"` // the peer's contact name, else the display name it sent
	From      string   `json:"from,omitempty"`
	Codec     string   `json:"codec,omitempty"`
	RateHz    int      `json:"rate,omitempty"`      // answered: the codec's audio rate
	Encrypted *bool    `json:"encrypted,omitempty"` // answered: whether SRTP protects the media
	SRTP      string   `json:"srtp,omitempty"`      // answered: the SRTP crypto suite
	By        string   `json:"by,omitempty"`
	Duration  *float64 `json:"duration,omitempty"`
	Digit     string   `json:"digit,omitempty"`
	Addr      string   `json:"addr,omitempty"`
	Text      *string  `json:"text,omitempty"`
	Status    string   `json:"status,omitempty"`
	Device    string   `json:"device,omitempty"` // audio_device_lost: microphone or speaker
	Final     bool     `json:"final,omitempty"`

	PacketsSent     *uint64  `json:"packets_sent,omitempty"`
	PacketsReceived *uint64  `json:"packets_received,omitempty"`
	Lost            *uint64  `json:"lost,omitempty"`
	Late            *uint64  `json:"late,omitempty"`
	Duplicate       *uint64  `json:"duplicate,omitempty"`
	Concealed       *uint64  `json:"concealed,omitempty"`
	Dropped         *uint64  `json:"dropped,omitempty"`
	SRTPAuthFailed  *uint64  `json:"srtp_auth_failed,omitempty"`
	SRTPReplayed    *uint64  `json:"srtp_replayed,omitempty"`
	JitterMs        *float64 `json:"jitter_ms,omitempty"`
	RTTMs           *float64 `json:"rtt_ms,omitempty"`
	MOS             *float64 `json:"mos,omitempty"` // stats: E-model estimate of the last ~5 s

	// voicemail (headless_voicemail.go).
	Waiting        *bool  `json:"waiting,omitempty"`
	New            *int   `json:"new,omitempty"`
	Old            *int   `json:"old,omitempty"`
	UrgentNew      *int   `json:"urgent_new,omitempty"`
	UrgentOld      *int   `json:"urgent_old,omitempty"`
	MessageAccount string `json:"message_account,omitempty"`

	// A call's quality summary (hangup events, history): quality.go.
	MOSMin      *float64 `json:"mos_min,omitempty"`
	MOSAvg      *float64 `json:"mos_avg,omitempty"`
	LossPct     *float64 `json:"loss_pct,omitempty"`
	JitterMaxMs *float64 `json:"jitter_max_ms,omitempty"`
}

func (p *printer) emit(r record, human string) {
	if p.json {
		b, err := json.Marshal(r)
		if err != nil { // cannot happen for this struct; say so rather than print nothing
			b = []byte(fmt.Sprintf(`{"event":"error","time":%q,"error":%q}`, r.Time, err.Error()))
		}
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	// Texts, reasons and names come from the network: an ESC in a message would rewrite the
	// user's terminal (clipboard, screen), a line break would forge a line of output.
	fmt.Fprintln(p.w, common.Clean(human))
}

func stamp(t time.Time) string { return t.Format(time.RFC3339) }

// nowFunc is the clock of events the phone does not timestamp.
var nowFunc = time.Now

// registration prints an account's state change.
func (p *printer) registration(s phone.AccountStatus) {
	r := record{Event: s.State.String(), Time: stamp(s.Time), Account: s.Account, AOR: s.AOR}
	who := fmt.Sprintf("%s %s", s.Time.Format("15:04:05"), s.Account)
	var human string
	switch s.State {
	case phone.Registering:
		human = fmt.Sprintf("%s: registering %s", who, s.AOR)
	case phone.Registered:
		exp := int(s.Expires / time.Second)
		r.Expires, r.Contact, r.Code = &exp, s.Contact, s.Code
		human = fmt.Sprintf("%s: registered %s (expires %ds, contact %s)", who, s.AOR, exp, s.Contact)
	case phone.RegFailed:
		r.Code, r.Reason, r.Failure = s.Code, s.Reason, s.Failure.String()
		if s.Err != nil {
			r.Error = s.Err.Error()
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s: registration failed: %s", who, failureText(s))
		if s.RetryIn > 0 {
			sec := s.RetryIn.Seconds()
			r.RetryIn = &sec
			fmt.Fprintf(&b, "; retrying in %s", s.RetryIn.Round(100*time.Millisecond))
		} else {
			b.WriteString("; not retrying")
		}
		human = b.String()
	case phone.Recovering:
		r.Reason = s.Reason
		human = fmt.Sprintf("%s: connection lost (%s); registering %s again", who, s.Reason, s.AOR)
		if s.RetryIn > 0 { // it died soon after registering: a new one after a backoff
			sec := s.RetryIn.Seconds()
			r.RetryIn = &sec
			human += fmt.Sprintf(" in %s", s.RetryIn.Round(100*time.Millisecond))
		}
	case phone.Unregistered:
		if s.Err != nil {
			r.Error = s.Err.Error()
			human = fmt.Sprintf("%s: unregistered (the registrar did not confirm: %v)", who, s.Err)
		} else {
			human = fmt.Sprintf("%s: unregistered", who)
		}
	}
	p.emit(r, human)
}

// failureText explains a failure in one line a person understands.
func failureText(s phone.AccountStatus) string {
	switch s.Failure {
	case phone.FailureAuth:
		return fmt.Sprintf("authentication failed (%d %s): check the user name and password", s.Code, s.Reason)
	case phone.FailureConfig:
		if s.Err != nil {
			return s.Err.Error()
		}
	}
	if s.Err != nil {
		return s.Err.Error()
	}
	if s.Code != 0 {
		return fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	return s.Reason
}

// call prints a call's state change.
func (p *printer) call(s phone.CallStatus) {
	if p.repeated(s) {
		return
	}
	if c := p.names.name(s.Peer); c != "" {
		s.PeerName = c
	}
	r := record{Event: s.State.String(), Time: stamp(s.Time), Account: s.Account, CallID: s.ID,
		SIPCallID: s.SIPCallID, Direction: s.Direction.String(), Peer: s.Peer, PeerName: s.PeerName}
	who := fmt.Sprintf("%s %s", s.Time.Format("15:04:05"), s.ID)
	var human string
	switch s.State {
	case phone.CallCalling:
		human = fmt.Sprintf("%s: calling %s", who, p.names.label(s.Peer, ""))
	case phone.CallRinging:
		human = fmt.Sprintf("%s: ringing", who)
	case phone.CallEarlyMedia:
		human = fmt.Sprintf("%s: early media", who)
	case phone.CallIncoming:
		r.From = s.Peer
		human = fmt.Sprintf("%s: incoming call from %s", who, p.names.label(s.Peer, s.PeerName))
	case phone.CallAnswered:
		enc := s.SRTP != ""
		r.Codec, r.RateHz, r.Encrypted, r.SRTP, r.Code = s.Codec, s.CodecRate, &enc, s.SRTP, s.Code
		human = fmt.Sprintf("%s: answered (%s)", who, codecLabel(s))
	case phone.CallEnded:
		d := s.Duration().Seconds()
		r.Code, r.Reason, r.By, r.Duration = s.Code, s.Reason, s.By, &d
		if s.Failure != phone.NoFailure {
			r.Failure = s.Failure.String()
		}
		if s.Err != nil {
			r.Error = s.Err.Error()
		}
		how := s.Reason
		if s.Code != 0 {
			how = fmt.Sprintf("%d %s", s.Code, s.Reason)
		}
		human = fmt.Sprintf("%s: hung up by %s (%s) after %s", who, s.By, how, s.Duration().Round(time.Second))
		human += r.setQuality(s.Quality)
	}
	p.emit(r, human)
}

// stats prints a call's media statistics.
func (p *printer) stats(m phone.MediaStats) {
	st := m.Stats
	jit := float64(st.Jitter) / float64(time.Millisecond)
	rtt := float64(st.RTT) / float64(time.Millisecond)
	r := record{Event: "stats", Time: stamp(m.Time), Account: m.Account, CallID: m.CallID, Final: m.Final,
		PacketsSent: &st.PacketsSent, PacketsReceived: &st.PacketsReceived, Lost: &st.Lost, Late: &st.Late,
		Duplicate: &st.Duplicate, Concealed: &st.Concealed, Dropped: &st.Dropped, JitterMs: &jit, RTTMs: &rtt}
	if st.SRTPAuthFailed+st.SRTPReplayed > 0 { // only when SRTP refused something: plain calls print as before
		r.SRTPAuthFailed, r.SRTPReplayed = &st.SRTPAuthFailed, &st.SRTPReplayed
	}
	human := fmt.Sprintf("%s %s: rtp sent %d received %d lost %d late %d concealed %d jitter %.1fms rtt %.1fms",
		m.Time.Format("15:04:05"), m.CallID, st.PacketsSent, st.PacketsReceived, st.Lost, st.Late, st.Concealed, jit, rtt)
	if st.MOS > 0 {
		r.MOS = &st.MOS
		human += fmt.Sprintf(" mos %.2f", st.MOS)
	}
	p.emit(r, human)
}

// dtmf prints a digit the far end sent.
func (p *printer) dtmf(d phone.DTMFReceived) {
	p.emit(record{Event: "dtmf", Time: stamp(d.Time), CallID: d.CallID, Digit: string(d.Digit)},
		fmt.Sprintf("%s %s: dtmf %c", d.Time.Format("15:04:05"), d.CallID, d.Digit))
}

// mediaWarning says that an answered call receives no audio, and the likely cause.
func (p *printer) mediaWarning(w phone.MediaWarning) {
	secs := w.SinceRTP.Seconds()
	p.emit(record{Event: "media_warning", Time: stamp(w.Time), Account: w.Account, CallID: w.CallID, Reason: w.Reason, Duration: &secs},
		fmt.Sprintf("%s %s: warning: %s", w.Time.Format("15:04:05"), w.CallID, w.Reason))
}

// listening says where direct calls can reach us.
func (p *printer) listening(addr string) {
	now := time.Now()
	p.emit(record{Event: "listening", Time: stamp(now), Addr: addr},
		fmt.Sprintf("%s listening for calls on sip:%s", now.Format("15:04:05"), addr))
}

// message prints an instant message sent, failed or received.
func (p *printer) message(m phone.Message) {
	text := m.Text
	r := record{Time: stamp(m.Time), Account: m.Account, Peer: m.Peer, PeerName: m.PeerName, Text: &text}
	if c := p.names.name(m.Peer); c != "" {
		r.PeerName = c
	}
	var human string
	switch {
	case m.Direction == phone.Incoming:
		r.Event, r.From = "message_received", m.Peer
		human = fmt.Sprintf("%s message from %s: %s", m.Time.Format("15:04:05"), p.names.label(m.Peer, m.PeerName), oneLine(m.Text))
	case m.Status == "sent":
		r.Event, r.Code = "message_sent", m.Code
		human = fmt.Sprintf("%s message to %s sent (%d %s)", m.Time.Format("15:04:05"), p.names.label(m.Peer, ""), m.Code, m.Reason)
	default:
		r.Event, r.Code, r.Reason, r.Failure = "message_failed", m.Code, m.Reason, m.Failure.String()
		if m.Err != nil {
			r.Error = m.Err.Error()
		}
		human = fmt.Sprintf("%s message to %s failed: %v", m.Time.Format("15:04:05"), m.Peer, m.Err)
	}
	p.emit(r, human)
}

// event prints any event the phone publishes (the snapshot and events about nothing a
// headless command shows are skipped).
func (p *printer) event(ev phone.Event) {
	switch ev := ev.(type) {
	case phone.AccountStatus:
		p.registration(ev)
	case phone.CallStatus:
		p.call(ev)
	case phone.MediaStats:
		p.stats(ev)
	case phone.DTMFReceived:
		p.dtmf(ev)
	case phone.MediaWarning:
		p.mediaWarning(ev)
	case phone.AudioDeviceLost:
		p.audioLost(ev) // headless_audio.go
	case phone.Message:
		p.message(ev)
	case phone.HoldChanged:
		p.hold(ev)
	case phone.DNDChanged:
		p.dnd(ev)
	case phone.TransferProgress:
		p.transfer(ev) // headless_transfer.go
	case phone.CallReplaced:
		p.replaced(ev)
	case phone.CallRedirected:
		p.redirected(ev) // headless_redirect.go
	case phone.Voicemail:
		p.voicemail(ev) // headless_voicemail.go
	}
}

// codecLabel says what carries a call's audio: "G722 16 kHz, SRTP AES_CM_128_HMAC_SHA1_80".
func codecLabel(s phone.CallStatus) string {
	l := s.Codec
	if s.CodecRate > 0 {
		l += fmt.Sprintf(" %g kHz", float64(s.CodecRate)/1000)
	}
	if s.SRTP != "" {
		l += ", SRTP " + s.SRTP
	}
	return l
}

// oneLine shows a message's lines on one line of output, each break as " ↵ " (a trailing one
// dropped): the line is one event, and emit turns what control characters are left into U+FFFD.
func oneLine(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	return strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", " ↵ ")
}

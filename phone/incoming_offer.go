package phone

import (
	"errors"
	"strconv"
	"strings"

	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/sdp"
	"github.com/emiago/sipgo/sip"
)

// checkOffer parses an incoming INVITE's offer once and checks it against the account's media
// policy before the phone rings: a call we cannot take should not ring. The policy (with SDES
// keys for the suites the offer names) answers the call later.
//
// An INVITE without SDP (a delayed offer) returns no offer and the policy we offer under, as
// for a call we place: our 200 carries the offer, their ACK the answer (incoming_delayed.go).
func (p *Phone) checkOffer(req *sip.Request, acc *account) (*sdp.ParsedOffer, mediaPolicy, error) {
	tls := strings.EqualFold(req.Transport(), "TLS")
	body, err := sdpBody(req)
	if err != nil {
		return nil, p.basePolicy(acc), err
	}
	if body == nil {
		mp, err := p.policyFor(acc, tls, true)
		return nil, mp, err
	}
	mp := p.basePolicy(acc)
	if mp.enc, err = p.encryptionFor(acc, tls, false); err != nil {
		return nil, mp, err
	}
	offer, err := sdp.ParseOffer(body)
	if err != nil {
		return nil, mp, err
	}
	if mp.enc == sdp.EncryptionSDES && offer.Plain() {
		// Answered plain either way (SRTP if offered, else not): no key to make (a getrandom
		// of ~5 µs before the 200, BenchmarkAnswerTurnaround). The call's later offers
		// follow what this exchange settled anyway (sessionEncryption).
		mp.enc = sdp.EncryptionNone
	}
	if mp.keys, err = newKeysFor(mp.enc, offer.CryptoSuites()); err != nil {
		return nil, mp, err
	}
	// The media is not open yet: a placeholder address, the rest as the answer will say it.
	return offer, mp, offer.Check(p.localSDP(mediaAddr{IP: "127.0.0.1", RTP: 9}, mp))
}

// refuseOffer answers an offer we cannot take with 488, its reason in a Warning header
// (RFC 3261 §20.43: 302 transport, 305 codec, 306 attribute). A refusal for encryption (our
// policy against the caller's) ends the call as insecure in the history and the events, so the
// user learns why a call never rang; other refusals are logged only, as before.
func (p *Phone) refuseOffer(c *call, req *sip.Request, tx sip.ServerTransaction, err error) {
	reason, warn, text := "Not Acceptable Here", 0, ""
	if r, ok := sdp.AsRefusal(err); ok {
		warn, text = r.WarnCode, r.Reason
	}
	respond := func(code int, reason string, hdrs ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		if warn != 0 {
			res.AppendHeader(sip.NewHeader("Warning", warning(warn, text)))
			res.AppendHeader(sip.NewHeader("Reason", `SIP ;cause=`+strconv.Itoa(code)+` ;text="`+quoted(text)+`"`)) // RFC 3326
		}
		if err := tx.Respond(res); err != nil {
			p.log.Debug("respond to INVITE", "code", code, "err", err)
		}
	}
	why, insecure := insecureRefusal(err)
	p.log.Info("incoming call refused", "from", c.status.Peer, "err", err)
	if errors.Is(err, errNotSDP) {
		respond(415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp, multipart/mixed"))
		return
	}
	if !insecure {
		respond(488, reason)
		return
	}
	for _, e := range c.advance(lifecycle.Refuse{Code: 488, Reason: reason, Failure: lifecycle.FailureInsecure}) {
		switch e := e.(type) {
		case lifecycle.Respond:
			respond(e.Code, e.Reason)
		case lifecycle.End:
			e.Outcome.Reason += " (" + why + ")"
			p.endAs(c, e.Outcome, err)
		}
	}
}

// warning formats a Warning header value (RFC 3261 §20.43): warn-code, our pseudonym as the
// agent, and the text quoted.
func warning(code int, text string) string {
	return strconv.Itoa(code) + ` dialtone "` + quoted(text) + `"`
}

// quoted escapes text for a quoted-string: quotes and backslashes escaped, line breaks dropped.
func quoted(text string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", " ", "\n", " ").Replace(text)
}

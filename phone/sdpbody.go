package phone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// errNotSDP is an offer body of a type that is not SDP and holds none: 415 (RFC 3261 §21.4.13).
var errNotSDP = errors.New("the body is not SDP")

// maxBodyParts bounds the parts of a multipart body looked through for the SDP.
const maxBodyParts = 8

// sdpCarrier is a request or a response: what may carry SDP.
type sdpCarrier interface {
	ContentType() *sip.ContentTypeHeader
	Body() []byte
}

// sdpBody is the SDP in m's body: the body itself when it is application/sdp (or says no
// type), or its application/sdp part when it is multipart (RFC 5621). SIP-I and SIP-T
// carriers send SDP beside an ISUP message in multipart/mixed, emergency calls beside a
// PIDF-LO location; the whole body was read as SDP and refused 488. nil for an empty body (a
// delayed offer); errNotSDP for a body of another type.
func sdpBody(m sdpCarrier) ([]byte, error) {
	body := m.Body()
	if len(body) == 0 {
		return nil, nil
	}
	ct := ""
	if h := m.ContentType(); h != nil {
		ct = h.Value()
	}
	if strings.TrimSpace(ct) == "" {
		return body, nil // RFC 3261 §20.15 wants the type; SDP is what an offer is
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		// A parameter the parser will not take ("application/sdp; charset"): the type is
		// what counts.
		if t, _, _ := strings.Cut(ct, ";"); strings.EqualFold(strings.TrimSpace(t), "application/sdp") {
			return body, nil
		}
		return nil, fmt.Errorf("%w: Content-Type %q: %v", errNotSDP, ct, err)
	}
	switch {
	case mt == "application/sdp":
		return body, nil
	case strings.HasPrefix(mt, "multipart/") && params["boundary"] != "":
		r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for range maxBodyParts {
			part, err := r.NextPart()
			if err != nil {
				break
			}
			pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			if pt != "application/sdp" {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, int64(len(body))))
			if err != nil {
				return nil, fmt.Errorf("%w: its SDP part: %v", errNotSDP, err)
			}
			return b, nil
		}
		return nil, fmt.Errorf("%w: %s without an application/sdp part", errNotSDP, mt)
	}
	return nil, fmt.Errorf("%w: %s", errNotSDP, mt)
}

// sdpOf is sdpBody for reading an answer (in a 18x, a 200 or an ACK), or the body as it is
// when it holds no SDP part, for the answer's reader to refuse with its own error.
func sdpOf(m sdpCarrier) []byte {
	b, err := sdpBody(m)
	if err != nil {
		return m.Body()
	}
	return b
}

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

// sdpBody is the SDP in req's body: the body itself when it is application/sdp (or says no
// type), or its application/sdp part when it is multipart (RFC 5621). SIP-I and SIP-T
// carriers send SDP beside an ISUP message in multipart/mixed, emergency calls beside a
// PIDF-LO location; the whole body was read as SDP and refused 488. nil for an empty body (a
// delayed offer); errNotSDP for a body of another type.
func sdpBody(req *sip.Request) ([]byte, error) {
	return sdpIn(req.ContentType(), req.Body())
}

// sdpOf is sdpBody for a response (an answer in a 18x or 200 from a SIP-I carrier), or
// the body as it is when it holds no SDP part, for the caller's own error.
func sdpOf(res *sip.Response) []byte {
	b, err := sdpIn(res.ContentType(), res.Body())
	if err != nil {
		return res.Body()
	}
	return b
}

// sdpIn is the SDP in body, whose Content-Type is ct (nil when there was none).
func sdpIn(cth *sip.ContentTypeHeader, body []byte) ([]byte, error) {
	if len(body) == 0 {
		return nil, nil
	}
	ct := ""
	if cth != nil {
		ct = cth.Value()
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

package phone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// errNoChallenge means a 401/407 carried no digest challenge we can answer.
var errNoChallenge = errors.New("no supported digest challenge (MD5, SHA-256, SHA-512-256 with qop=auth, auth-int or none)")

// algorithmRank orders the digest algorithms we answer; RFC 8760 asks clients to pick the
// strongest one a server offers when it sends several challenges.
func algorithmRank(alg string) int {
	switch strings.ToUpper(alg) {
	case "SHA-512-256":
		return 3
	case "SHA-256":
		return 2
	case "", "MD5":
		return 1
	}
	return 0
}

// pickChallenge returns the strongest digest challenge among header values that we can answer.
func pickChallenge(values []string) (*digest.Challenge, error) {
	var best *digest.Challenge
	for _, v := range values {
		c, err := digest.ParseChallenge(v)
		if err != nil || algorithmRank(c.Algorithm) == 0 || !digest.CanDigest(c) {
			continue
		}
		for i, q := range c.QOP { // the parser splits qop="auth-int, auth" on "," and keeps the space
			c.QOP[i] = strings.TrimSpace(q)
		}
		if len(c.QOP) > 0 && !c.SupportsQOP("auth") && !c.SupportsQOP("auth-int") {
			continue // auth-conf and the like
		}
		if best == nil || algorithmRank(c.Algorithm) > algorithmRank(best.Algorithm) {
			best = c
		}
	}
	if best == nil {
		return nil, errNoChallenge
	}
	return best, nil
}

// authorize answers the 401 or 407 res by adding an Authorization or Proxy-Authorization
// header to req (replacing an earlier one). It reports whether the server marked the nonce
// stale, which means "right password, old nonce": worth exactly one more try.
func authorize(req *sip.Request, res *sip.Response, user, password string) (stale bool, err error) {
	return authorizeCount(req, res, user, password, 1)
}

// authorizeCount is authorize for the count-th use of res's challenge (its nonce-count).
func authorizeCount(req *sip.Request, res *sip.Response, user, password string, count int) (stale bool, err error) {
	answerName := answerHeader(res)
	chal, err := pickChallenge(challengeValues(res))
	if err != nil {
		return false, fmt.Errorf("%d %s: %w", res.StatusCode, res.Reason, err)
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method:   req.Method.String(),
		URI:      req.Recipient.String(), // digest-uri is the Request-URI exactly as sent
		Username: user,
		Password: password,
		Count:    count,
		// auth-int, when it is the only qop offered, hashes the body as sent (RFC 3261 §22.4:
		// empty for a REGISTER); "auth" is taken when both are.
		GetBody: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(req.Body())), nil },
	})
	if err != nil {
		return false, fmt.Errorf("digest response: %w", err)
	}
	req.RemoveHeader(answerName)
	req.AppendHeader(sip.NewHeader(answerName, cred.String()))
	return chal.Stale, nil
}

// digestAnswers answers the challenges of an exchange (a proxy's 407, a registrar's or far
// end's 401: the latest of each kind) in every request that follows, each time with the next
// nonce-count (RFC 7616 3.4). A request after a 423, after the other kind's challenge or after
// a re-offer carried an earlier answer unchanged (nc=00000001 again), which a server that
// counts nonces takes for a replay and refuses. The zero value answers nothing.
type digestAnswers struct {
	user, password string
	chals          []*sip.Response
	used           []int
}

// add answers res from the next request on, in place of an earlier challenge of its kind.
func (a *digestAnswers) add(res *sip.Response, user, password string) {
	a.user, a.password = user, password
	name := answerHeader(res)
	for i, c := range a.chals {
		if answerHeader(c) == name {
			a.chals[i], a.used[i] = res, 0
			return
		}
	}
	a.chals = append(a.chals, res)
	a.used = append(a.used, 0)
}

// dropUser forgets the answer to a registrar's or far end's challenge (401), keeping the
// proxy's (407): a redirected INVITE goes the same way to another callee, who may challenge it
// anew, and the old answer must not reach a target a 3xx named.
func (a *digestAnswers) dropUser() {
	for i := 0; i < len(a.chals); i++ {
		if a.chals[i].StatusCode != sip.StatusProxyAuthRequired {
			a.chals = slices.Delete(a.chals, i, i+1)
			a.used = slices.Delete(a.used, i, i+1)
			i--
		}
	}
}

// apply writes every answer into req (replacing what it carried), each with its next count.
func (a *digestAnswers) apply(req *sip.Request) error {
	for i, c := range a.chals {
		a.used[i]++
		if _, err := authorizeCount(req, c, a.user, a.password, a.used[i]); err != nil {
			return err
		}
	}
	return nil
}

// challenges records which digest challenges a request (REGISTER, MESSAGE) has answered: a
// proxy's 407 and then the registrar's or far end's 401 are two challenges (RFC 3261 22.3),
// each answered once, and the request carries both answers. A second challenge of a kind
// already answered means the credentials were rejected, unless it says stale=true (right
// password, old nonce), which gets one more try. The zero value is ready.
type challenges struct {
	answered, staleRetried [2]bool // by kind: 401, 407
}

// mayAnswer says whether res (a 401 or 407) is to be answered, and notes that it will be.
func (c *challenges) mayAnswer(res *sip.Response) bool {
	k := 0
	if res.StatusCode == sip.StatusProxyAuthRequired {
		k = 1
	}
	if c.answered[k] {
		if !hasStaleChallenge(res) || c.staleRetried[k] {
			return false
		}
		c.staleRetried[k] = true
	}
	c.answered[k] = true
	return true
}

// sent reports whether credentials went out at all.
func (c *challenges) sent() bool { return c.answered[0] || c.answered[1] }

// answerHeader names the header that answers res's challenge: Proxy-Authorization for a 407,
// Authorization for a 401.
func answerHeader(res *sip.Response) string {
	if res.StatusCode == sip.StatusProxyAuthRequired {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// challengeValues returns the challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate).
func challengeValues(res *sip.Response) []string {
	name := "WWW-Authenticate"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name = "Proxy-Authenticate"
	}
	var values []string
	for _, h := range res.GetHeaders(name) {
		values = append(values, h.Value())
	}
	return values
}

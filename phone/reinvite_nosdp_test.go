package phone

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestOfferlessReinviteOffersTheSessionAsItIs: a re-INVITE without SDP (a session refresh, as
// Cisco and some carriers send) gets our offer in the 200, and the answer comes in the ACK,
// which we do not apply: so the offer is the session as it stands, its one codec. Offering
// every codec let the far end pick another in its answer and send it while we went on with
// the old one.
func TestOfferlessReinviteOffersTheSessionAsItIs(t *testing.T) {
	tp, tAddr, tEv := runPhone(t, Config{})
	r, _, ctx := answeredRaw(t, tp, tAddr, tEv)
	s := r.sess.Load()
	first := audioCodecs(string(s.InviteResponse.Body()))
	reinvite := sip.NewRequest(sip.INVITE, s.InviteResponse.Contact().Address)
	reinvite.AppendHeader(&sip.ContactHeader{Address: s.InviteRequest.Contact().Address})
	res, err := s.Do(ctx, reinvite)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE without SDP: %v %v", res, err)
	}
	if err := r.ackReinvite(reinvite, s.InviteRequest.Body()); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	// The call's answer named one audio codec; the offer names that one only (and
	// telephone-event, at its rates).
	if offer := audioCodecs(string(res.Body())); offer != first || strings.Contains(first, " ") {
		t.Errorf("audio codecs offered in the 200: %q; the session as answered: %q", offer, first)
	}
}

// audioCodecs lists the encodings an SDP's a=rtpmap lines name, telephone-event aside.
func audioCodecs(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "a=rtpmap:"); ok {
			if _, enc, ok := strings.Cut(rest, " "); ok && !strings.HasPrefix(enc, "telephone-event") {
				name, _, _ := strings.Cut(enc, "/")
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, " ")
}

package phone

import (
	"testing"
	"time"

	"github.com/dialtone/dialtone/codec"
	lifecycle "github.com/dialtone/dialtone/phone/call"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/srtp"
)

// TestRenegotiationShowsInTheStatus: a re-INVITE that takes an encrypted call to plain RTP (a
// best-effort call, a B2BUA re-bridging it) or to another codec shows in the call's status: the
// TUI's lock and codec kept what the answer had set.
func TestRenegotiationShowsInTheStatus(t *testing.T) {
	p, _, events := runPhone(t, Config{})
	<-events // snapshot
	c := newCall("c1", nil, Outgoing)
	c.status = CallStatus{ID: "c1", State: CallAnswered, Codec: "opus", CodecRate: 48000, SRTP: "AEAD_AES_128_GCM"}
	key, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA180)
	if err != nil {
		t.Fatal(err)
	}
	p.mediaTermsChanged(c, media.Params{Codec: codec.PCMU, SRTP: &srtp.Keys{Local: key, Remote: key}})
	if s := c.status; s.SRTP != "AES_CM_128_HMAC_SHA1_80" || s.Codec != "PCMU" || s.CodecRate != 8000 {
		t.Fatalf("after a re-INVITE to PCMU and another suite: %+v", s)
	}
	p.mediaTermsChanged(c, media.Params{Codec: codec.PCMU})
	if s := c.status; s.SRTP != "" {
		t.Fatalf("after a re-INVITE to plain RTP the status still says %q", s.SRTP)
	}
	got := 0
	timeout := time.After(5 * time.Second)
	for got < 2 {
		select {
		case ev := <-events:
			if s, ok := ev.(CallStatus); ok && s.ID == "c1" {
				got++
			}
		case <-timeout:
			t.Fatalf("%d call statuses published, want one a change (2)", got)
		}
	}
}

// TestRefusedHoldIsPublished: a hold the far end refused (488, or glare retries spent) is
// published as the call's status as it stands, not held: the TUI marked the call holding when
// it asked, and only a status tells it otherwise.
func TestRefusedHoldIsPublished(t *testing.T) {
	p, _, events := runPhone(t, Config{})
	<-events // snapshot
	c := newCall("c2", nil, Outgoing)
	c.status = CallStatus{ID: "c2", State: CallAnswered}
	h := &holdRun{p: p, c: c}
	if _, handled := h.do(lifecycle.HoldFailed{Code: 488, Reason: "Not Acceptable Here"}); !handled {
		t.Fatal("HoldFailed not handled")
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-events:
			if s, ok := ev.(CallStatus); ok && s.ID == "c2" {
				if s.Held {
					t.Fatalf("published held after a refused hold: %+v", s)
				}
				return
			}
		case <-timeout:
			t.Fatal("nothing published after a refused hold")
		}
	}
}

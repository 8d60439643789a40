package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestCallRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	answered := Call{CallID: "a1", Direction: Outgoing, Account: "work", Peer: `"Zoë" <sip:Zoe@Example.COM;transport=tcp>`,
		PeerName: "Zoë ✓ 🎧", Start: t0, Answer: at(3 * time.Second), End: at(65 * time.Second),
		Code: 200, Reason: "BYE", By: "local", Duration: 62*time.Second + 5*time.Millisecond}
	missed := Call{CallID: "m1", Direction: Incoming, Account: "work", Peer: "sip:bob@example.com",
		Start: at(time.Hour), Code: 487, Reason: "Request Terminated", By: "remote"} // Answer and End zero
	answered.ID = addCall(t, s, answered)
	missed.ID = addCall(t, s, missed)
	answered.Peer = "sip:Zoe@example.com"

	got, err := s.Calls(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Call{missed, answered}; !slices.Equal(got, want) {
		t.Fatalf("Calls:\n got %+v\nwant %+v", got, want)
	}
	if !got[0].Answer.IsZero() || !got[0].End.IsZero() {
		t.Errorf("zero times did not come back zero: %+v", got[0])
	}
}

func TestCallUpsertByCallID(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	c := Call{CallID: "x", Direction: Incoming, Peer: "sip:bob@example.com", Start: t0, Answer: at(time.Second)}
	id1 := addCall(t, s, c)
	c.End, c.Code, c.Reason, c.Duration = at(10*time.Second), 200, "BYE", 9*time.Second
	id2 := addCall(t, s, c)
	if id1 != id2 {
		t.Fatalf("second AddCall with the same CallID got id %d, want %d", id2, id1)
	}
	// Calls without a CallID are never merged.
	addCall(t, s, Call{Direction: Outgoing, Peer: "sip:a@b", Start: t0})
	addCall(t, s, Call{Direction: Outgoing, Peer: "sip:a@b", Start: t0})
	// The call's other leg on this machine (a dialtone calling a dialtone answerer) shares the
	// Call-ID: a row of its own, not a replacement of this one.
	other := addCall(t, s, Call{CallID: "x", Direction: Outgoing, Peer: "sip:alice@example.com", Start: t0})
	if other == id1 {
		t.Fatal("the outgoing leg replaced the incoming one")
	}
	got, err := s.Calls(ctx, Query{})
	if err != nil || len(got) != 4 {
		t.Fatalf("Calls = %+v, %v; want 4", got, err)
	}
	for _, g := range got {
		if g.ID == id1 && (g.Duration != 9*time.Second || !g.End.Equal(at(10*time.Second)) || g.Reason != "BYE") {
			t.Errorf("upserted call = %+v; want the second version", g)
		}
	}
}

func TestCallsQuery(t *testing.T) {
	ctx := context.Background()
	s := newMemory(t)
	// Stored out of order; one without a start time.
	ids := map[string]int64{}
	for _, c := range []struct {
		name, peer string
		start      time.Time
	}{
		{"b2", "sip:bob@example.com", at(2 * time.Minute)},
		{"a1", "sip:alice@example.com", at(1 * time.Minute)},
		{"nostart", "sip:bob@example.com", time.Time{}},
		{"b3", "sip:bob@example.com", at(3 * time.Minute)},
		{"a4", "sip:alice@example.com", at(4 * time.Minute)},
	} {
		ids[c.name] = addCall(t, s, Call{CallID: c.name, Direction: Incoming, Peer: c.peer, Start: c.start})
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"all newest first, no start last", Query{}, []string{"a4", "b3", "b2", "a1", "nostart"}},
		{"limit", Query{Limit: 2}, []string{"a4", "b3"}},
		{"peer, spelled differently", Query{Peer: "Bob <sip:bob@EXAMPLE.com;user=phone>"}, []string{"b3", "b2", "nostart"}},
		{"since is inclusive", Query{Since: at(2 * time.Minute)}, []string{"a4", "b3", "b2"}},
		{"peer and since and limit", Query{Peer: "sip:bob@example.com", Since: at(time.Minute), Limit: 1}, []string{"b3"}},
		{"calls flag", Query{Calls: true, Messages: true, Limit: 1}, []string{"a4"}},
		{"messages only", Query{Messages: true}, nil},
		{"unknown peer", Query{Peer: "sip:carol@example.com"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Calls(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, n := range tc.want {
				want = append(want, ids[n])
			}
			if g := callIDs(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
				t.Errorf("ids = %v, want %v (%v)", g, want, tc.want)
			}
		})
	}
	if _, err := s.Calls(ctx, Query{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestCallDefaultLimit(t *testing.T) {
	s := newMemory(t)
	for i := range DefaultLimit + 5 {
		addCall(t, s, Call{Direction: Incoming, Peer: "sip:a@b", Start: at(time.Duration(i) * time.Second)})
	}
	got, err := s.Calls(context.Background(), Query{})
	if err != nil || len(got) != DefaultLimit {
		t.Fatalf("got %d calls, %v; want %d", len(got), err, DefaultLimit)
	}
}

func TestAddCallRejectsBadDirection(t *testing.T) {
	s := newMemory(t)
	if _, err := s.AddCall(context.Background(), Call{Direction: "sideways", Peer: "sip:a@b"}); err == nil {
		t.Error("AddCall accepted direction \"sideways\"")
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// TestPrinterHold: hold and resume are printed as their own events with "by"; the holding and
// held states and a second "answered" (after a resume) are not printed as state lines; DND
// is printed with its status and code.
func TestPrinterHold(t *testing.T) {
	var out bytes.Buffer
	p := &printer{w: &out, json: true}
	now := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	st := phone.CallStatus{Time: now, ID: "c1", State: phone.CallAnswered, Codec: "PCMU", Answered: now}
	for _, ev := range []phone.Event{
		st,
		phone.HoldChanged{Time: now, CallID: "c1", Held: true, By: "local"},
		phone.CallStatus{Time: now, ID: "c1", State: phone.CallHolding, Held: true},
		phone.HoldChanged{Time: now, CallID: "c1", Held: false, By: "local"},
		st,
		phone.HoldChanged{Time: now, CallID: "c1", Held: true, By: "remote"},
		phone.CallStatus{Time: now, ID: "c1", State: phone.CallHeld, RemoteHeld: true},
		phone.DNDChanged{Time: now, On: true, Code: 603},
		phone.DNDChanged{Time: now},
	} {
		p.event(ev)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		s := r["event"].(string)
		if by, ok := r["by"].(string); ok {
			s += ":" + by
		}
		if st, ok := r["status"].(string); ok {
			s += ":" + st
		}
		if c, ok := r["code"].(float64); ok && strings.HasPrefix(s, "dnd") {
			s += ":" + strconv.Itoa(int(c))
		}
		got = append(got, s)
	}
	want := []string{"answered", "hold:local", "resume:local", "hold:remote", "dnd:on:603", "dnd:off"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("printed %v, want %v", got, want)
	}

	out.Reset()
	p = &printer{w: &out}
	p.event(phone.HoldChanged{Time: now, CallID: "c2", Held: true, By: "remote"})
	p.event(phone.HoldChanged{Time: now, CallID: "c2", Held: false, By: "local"})
	if text := out.String(); !strings.Contains(text, "c2: on hold by the far end") || !strings.Contains(text, "c2: taken off hold by us") {
		t.Fatalf("text:\n%s", text)
	}
}

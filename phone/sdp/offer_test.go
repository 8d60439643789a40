package sdp

import "testing"

// TestCheckPtime: the packet durations a user may ask for, and a clear error for the others.
func TestCheckPtime(t *testing.T) {
	for ms := -10; ms <= 130; ms += 5 {
		err := CheckPtime(ms)
		if ok := ms >= 10 && ms <= 60 && ms%10 == 0; ok != (err == nil) {
			t.Errorf("CheckPtime(%d) = %v", ms, err)
		}
	}
}

// TestOfferAsksForPtime: Local.Ptime is the a=ptime of the offer (20 when unset).
func TestOfferAsksForPtime(t *testing.T) {
	for _, c := range []struct{ ptime, want int }{{0, 20}, {30, 30}, {60, 60}} {
		l := Local{SessionID: 1, SessionVersion: 1, Addr: "127.0.0.1", Port: 4000, Codecs: []string{"PCMU"}, DTMF: true, Ptime: c.ptime}
		b, err := Offer(l)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Ptime; got != c.want {
			t.Errorf("Ptime %d: the offer says a=ptime:%d, want %d", c.ptime, got, c.want)
		}
	}
}

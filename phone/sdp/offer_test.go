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

// TestPacketsNoLongerThanMaxptime: what we send follows the remote's a=ptime (20 ms when it
// names none) but never exceeds its a=maxptime, in an answer and in an accepted answer alike.
func TestPacketsNoLongerThanMaxptime(t *testing.T) {
	for _, c := range []struct {
		attrs string
		want  int
	}{
		{"", 20},
		{"a=ptime:30\r\n", 30},
		{"a=maxptime:40\r\n", 20},
		{"a=maxptime:10\r\n", 10},
		{"a=ptime:60\r\na=maxptime:40\r\n", 40},
		{"a=ptime:40\r\na=maxptime:35\r\n", 30},
		{"a=ptime:20\r\na=maxptime:5\r\n", 10},
		{"a=ptime:30\r\na=maxptime:junk\r\n", 30},
	} {
		remote := "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n" +
			"m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" + c.attrs
		_, n, err := Answer([]byte(remote), testLocal())
		if err != nil {
			t.Fatalf("%q: %v", c.attrs, err)
		}
		if n.Ptime != c.want {
			t.Errorf("answering %q: send %d ms packets, want %d", c.attrs, n.Ptime, c.want)
		}
		a, err := Accept(testLocal(), []byte(remote))
		if err != nil {
			t.Fatalf("%q: %v", c.attrs, err)
		}
		if a.Ptime != c.want {
			t.Errorf("accepting %q: send %d ms packets, want %d", c.attrs, a.Ptime, c.want)
		}
	}
}

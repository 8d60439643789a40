package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDTMFInfo(t *testing.T) {
	for _, tc := range []struct {
		ct, body string
		want     rune
		err      error // nil: any error when want is 0
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', nil},
		{"application/dtmf-relay", "Signal=#\r\nDuration=250", '#', nil},
		{"Application/DTMF-Relay; charset=utf-8", "duration = 100\nsignal = *\n", '*', nil},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160\r\n", '#', nil},
		{"application/dtmf-relay", "Signal=d\r\n", 'D', nil},
		{"application/dtmf-relay", "Signal=!\r\nDuration=200\r\n", 0, errNoSignal},
		{"application/dtmf-relay", "Duration=160\r\n", 0, nil},
		{"application/dtmf-relay", "Signal=\r\n", 0, nil},
		{"application/dtmf-relay", "Signal=16x\r\n", 0, nil},
		{"application/dtmf-relay", "Signal=99\r\n", 0, nil},
		{"application/dtmf", "5", '5', nil},
		{"application/dtmf", " 0\r\n", '0', nil},
		{"application/dtmf", "10", '*', nil},
		{"application/dtmf", "x", 0, nil},
		{"application/dtmf", "-1", 0, nil},
		{"application/sdp", "v=0\r\n", 0, errInfoType},
		{"text/plain", "5", 0, errInfoType},
		{"", "5", 0, errInfoType},
		{"application/dtmf", strings.Repeat("5", maxDTMFInfoBody+1), 0, nil},
	} {
		got, err := parseDTMFInfo(tc.ct, []byte(tc.body))
		if tc.want != 0 {
			if err != nil || got != tc.want {
				t.Errorf("%s %q: %q %v, want %q", tc.ct, tc.body, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s %q: %q accepted", tc.ct, tc.body, got)
		} else if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%s %q: error %v, want %v", tc.ct, tc.body, err, tc.err)
		}
	}
}

// FuzzParseDTMFInfo: any body yields a keypad digit or an error, never a panic.
func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		d, err := parseDTMFInfo(ct, body)
		if err != nil {
			return
		}
		if !strings.ContainsRune("0123456789*#ABCD", d) {
			t.Fatalf("%q %q gave %q", ct, body, d)
		}
	})
}

package pcap

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// frames feeds in to a Framer in pieces of the sizes next gives, and returns the messages it
// cuts and what is left.
func frames(in []byte, next func() int) (msgs [][]byte, rest []byte) {
	var f Framer
	for len(in) > 0 {
		n := min(max(1, next()), len(in))
		f.Write(in[:n])
		in = in[n:]
		for {
			m, ok := f.Next()
			if !ok {
				break
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, f.Pending()
}

// referenceFrames is how ReadSIP cut a stream fed whole before Framer: the first CRLFCRLF
// (else LFLF) and Content-Length, looked for from the start each time.
func referenceFrames(b []byte) (msgs [][]byte, rest []byte) {
	for {
		b = bytes.TrimLeft(b, "\r\n")
		end, sep := bytes.Index(b, []byte("\r\n\r\n")), 4
		if end < 0 {
			if end, sep = bytes.Index(b, []byte("\n\n")), 2; end < 0 {
				return msgs, b
			}
		}
		n := 0
		for v := range HeaderValues(b[:end], "Content-Length", "l") {
			n, _ = strconv.Atoi(string(v))
		}
		if n < 0 || n > maxStream {
			n = 0
		}
		if end+sep+n > len(b) {
			return msgs, b
		}
		msgs, b = append(msgs, b[:end+sep+n]), b[end+sep+n:]
	}
}

const framerSample = "\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n" +
	"MESSAGE sip:a@b SIP/2.0\r\nCall-ID: 2\r\nl: 5\r\n\r\nhello" +
	"\r\nSIP/2.0 200 OK\nCall-ID: 3\nContent-Length: 3\n\nabc" +
	"INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nv=0\r\n"

// TestFramerCutsAnyPieces: the same messages come out of a stream fed whole, a byte at a time
// and in random pieces. (The framing before looked for a CRLFCRLF anywhere first: fed whole,
// the LF-only response ran on into the INVITE after it.)
func TestFramerCutsAnyPieces(t *testing.T) {
	in := []byte(framerSample)
	whole, wholeRest := frames(in, func() int { return len(in) })
	if len(whole) != 3 || string(whole[2]) != "SIP/2.0 200 OK\nCall-ID: 3\nContent-Length: 3\n\nabc" ||
		string(wholeRest) != "INVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nv=0\r\n" {
		t.Fatalf("whole: %q, rest %q", whole, wholeRest)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for name, next := range map[string]func() int{"a byte at a time": func() int { return 1 }, "random": func() int { return r.IntN(40) }} {
		got, rest := frames(in, next)
		if !slices.EqualFunc(got, whole, bytes.Equal) || !bytes.Equal(rest, wholeRest) {
			t.Errorf("%s: %q + %q, want %q + %q", name, got, rest, whole, wholeRest)
		}
	}
}

// FuzzFramer: any stream in any pieces frames as when fed whole (the framer's decisions do not
// depend on where the reads ended), and a stream with CRLF line ends only frames as before.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(framerSample), uint64(1))
	f.Add([]byte("A\n\nB\r\n\r\n"), uint64(7))
	f.Add([]byte("X\n\r\nl: 2\r\n\r\nab"), uint64(3))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		whole, wholeRest := frames(in, func() int { return len(in) })
		r := rand.New(rand.NewPCG(seed, seed))
		got, rest := frames(in, func() int { return r.IntN(8) })
		if !slices.EqualFunc(got, whole, bytes.Equal) || !bytes.Equal(rest, wholeRest) {
			t.Fatalf("in pieces %q + %q, whole %q + %q", got, rest, whole, wholeRest)
		}
		if !bytes.Contains(bytes.ReplaceAll(in, []byte("\r\n"), nil), []byte("\n")) {
			ref, refRest := referenceFrames(in)
			if !slices.EqualFunc(whole, ref, bytes.Equal) || !bytes.Equal(wholeRest, refRest) {
				t.Fatalf("%q + %q, the framing before gave %q + %q", whole, wholeRest, ref, refRest)
			}
		}
	})
}

// BenchmarkFramerTrickle: a 64 KiB message fed a byte at a time, as a hostile capture or peer
// may send it. Linear: about what feeding it whole costs, not 32 K times that.
func BenchmarkFramerTrickle(b *testing.B) {
	body := strings.Repeat("x", 64<<10)
	msg := []byte("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	for name, piece := range map[string]int{"byte": 1, "whole": len(msg)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if got, _ := frames(msg, func() int { return piece }); len(got) != 1 {
					b.Fatalf("%d messages", len(got))
				}
			}
		})
	}
}

package codec

import (
	"encoding/binary"
	"testing"

	"github.com/dialtone/dialtone/codec/internal/spandsp"
)

// FuzzG722Decode: any payload and any destination size. Decode never panics; it writes
// exactly two samples per octet when they fit and nothing at all otherwise (an error); a
// payload split in two decodes to the same samples as in one piece; and where the spandsp
// peer is built in, the samples are its samples, but for its wrap-around on overload.
func FuzzG722Decode(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, dstLen uint16, cut uint16) {
		const sentinel = -12345
		dst := make([]int16, int(dstLen)+1)
		for i := range dst {
			dst[i] = sentinel
		}
		dec := G722.NewDecoder()
		n, err := dec.Decode(dst[:dstLen], payload)
		if int(dstLen) < 2*len(payload) {
			if err == nil || n != 0 {
				t.Fatalf("Decode(%d octets into %d) = %d, %v; want an error", len(payload), dstLen, n, err)
			}
			for i, v := range dst {
				if v != sentinel {
					t.Fatalf("failed Decode wrote sample %d", i)
				}
			}
			return
		}
		if err != nil || n != 2*len(payload) {
			t.Fatalf("Decode(%d octets) = %d, %v", len(payload), n, err)
		}
		for i := n; i < len(dst); i++ {
			if dst[i] != sentinel {
				t.Fatalf("Decode wrote past its %d samples at %d", n, i)
			}
		}

		k := int(cut) % (len(payload) + 1)
		again := G722.NewDecoder()
		split := make([]int16, 2*len(payload))
		if _, err := again.Decode(split, payload[:k]); err != nil {
			t.Fatal(err)
		}
		if _, err := again.Decode(split[2*k:], payload[k:]); err != nil {
			t.Fatal(err)
		}
		for i := range split {
			if split[i] != dst[i] {
				t.Fatalf("cut at octet %d: sample %d = %d, whole %d", k, i, split[i], dst[i])
			}
		}

		if !spandsp.Available || len(payload) == 0 {
			return
		}
		peer, err := spandsp.NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		want := make([]int16, 2*len(payload))
		peer.Decode(want, payload)
		if bad, _ := sameOrWrapped(payload, dst[:n], want); bad >= 0 {
			t.Fatalf("sample %d = %d, spandsp %d", bad, dst[bad], want[bad])
		}
	})
}

// FuzzG722Encode: any PCM (little-endian 16-bit from the fuzzer's bytes). Encode never
// panics, writes one octet per pair, errors on an odd count, and agrees with spandsp octet
// for octet up to the first pair where the reference's 15-bit analysis limit acts.
func FuzzG722Encode(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		out := make([]byte, len(pcm)/2+1)
		n, err := G722.NewEncoder().Encode(out, pcm)
		if len(pcm)%2 != 0 {
			if err == nil || n != 0 {
				t.Fatalf("Encode(%d samples) = %d, %v; want an error", len(pcm), n, err)
			}
			return
		}
		if err != nil || n != len(pcm)/2 {
			t.Fatalf("Encode(%d samples) = %d, %v", len(pcm), n, err)
		}
		if !spandsp.Available || n == 0 {
			return
		}
		peer, err := spandsp.NewEncoder()
		if err != nil {
			t.Fatal(err)
		}
		defer peer.Close()
		want := make([]byte, n)
		peer.Encode(want, pcm)
		limited := firstLimitedPair(pcm)
		for i := range want {
			if want[i] != out[i] {
				if limited >= 0 && i >= limited {
					return
				}
				t.Fatalf("octet %d = %#02x, spandsp %#02x (limit acts at %d)", i, out[i], want[i], limited)
			}
		}
	})
}

package codec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The digital test sequences of G.722 Appendix II (ITU-T G.722 (2012) software distribution,
// G.722_MB-testvectors) check the sub-band ADPCM with the QMFs bypassed: configuration 1
// feeds the same sample to both band encoders and compares the codes, configuration 2 decodes
// codes and compares each band's reconstructed signal. They are ITU-T's copyright and are not
// in this repository: put the ASCII files (g722-ascii/T1C1.XMT …) in testdata/g722-itu or
// name their directory in G722_ITU_VECTORS. Each file is first checked against the CRC-32
// the distribution publishes for its binary little-endian twin, so a damaged copy is named as
// such rather than reported as a codec bug.

// g722ITUCRC is the distribution's table of CRC-32s of the binary little-endian files.
var g722ITUCRC = map[string]uint32{
	"T1C1.XMT": 0x0C3BFCA7, "T1C2.XMT": 0x2D604685, "T1D3.COD": 0x7398964F,
	"T2R1.COD": 0xD1DAA1D1, "T2R2.COD": 0x344EA5D0,
	"T3H1.RC0": 0xE9250851, "T3H2.RC0": 0x5330AE2E, "T3H3.RC0": 0x3731AD7F,
	"T3L1.RC1": 0xED1B3993, "T3L2.RC1": 0xAF00F31F, "T3L3.RC1": 0xA5374659,
}

func g722ITUDir(t *testing.T) string {
	dir := os.Getenv("G722_ITU_VECTORS")
	if dir == "" {
		dir = filepath.Join("testdata", "g722-itu")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no G.722 test sequences: ITU-T's files are not redistributed here; put the g722-ascii files in %s or set G722_ITU_VECTORS (%v)", dir, err)
	}
	return dir
}

// readITUVector reads one ASCII test sequence: comment lines, then lines of 16 hex words and
// a checksum byte. It returns the words (sync words included) or fs.ErrNotExist.
func readITUVector(dir, name string) ([]uint16, error) {
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	var words []uint16
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "/*") {
			continue
		}
		for len(line) >= 4 {
			w, err := strconv.ParseUint(line[:4], 16, 16)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", name, line, err)
			}
			words = append(words, uint16(w))
			line = line[4:]
		}
	}
	le := make([]byte, 2*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint16(le[2*i:], w)
	}
	if got, want := crc32.ChecksumIEEE(le), g722ITUCRC[name]; got != want {
		return nil, fmt.Errorf("%s: CRC-32 of its binary form is %08X, the distribution says %08X: damaged copy", name, got, want)
	}
	return words, nil
}

// ituData is the span of a sequence between its leading and trailing sync words, which are
// the only odd words (their low bit is the reset flag).
func ituData(w []uint16) (start, end int) {
	for start < len(w) && w[start]&1 != 0 {
		start++
	}
	end = start
	for end < len(w) && w[end]&1 == 0 {
		end++
	}
	return start, end
}

// readITUSet reads a sequence and the sequences expected from it; ok is false (logged) when
// the first is not there, since the ITU distribution is copied here in parts.
func readITUSet(t *testing.T, dir string, names ...string) (v [][]uint16, ok bool) {
	t.Helper()
	for i, name := range names {
		w, err := readITUVector(dir, name)
		if i == 0 && errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s: not present, skipped", name)
			return nil, false
		}
		if err != nil {
			t.Fatal(err)
		}
		v = append(v, w)
	}
	return v, true
}

func TestG722ITUEncoder(t *testing.T) {
	dir := g722ITUDir(t)
	ran := 0
	for _, p := range [][2]string{{"T1C1.XMT", "T2R1.COD"}, {"T1C2.XMT", "T2R2.COD"}} {
		v, ok := readITUSet(t, dir, p[:]...)
		if !ok {
			continue
		}
		in, want := v[0], v[1]
		var low, high band
		low.reset(detLowMin)
		high.reset(detHighMin)
		start, end := ituData(in)
		for k := start; k < end; k++ {
			x := int32(int16(in[k])) >> 1 // 15-bit band signal over the reset flag
			code := high.encodeHigh(x)<<6 | low.encodeLow(x)
			if code != int32(want[k]>>8) {
				t.Fatalf("%s sample %d: code %#02x, %s says %#02x", p[0], k-start, code, p[1], want[k]>>8)
			}
		}
		t.Logf("%s → %s: %d codes identical", p[0], p[1], end-start)
		ran++
	}
	if ran == 0 {
		t.Skip("no encoder test sequences present")
	}
}

func TestG722ITUDecoder(t *testing.T) {
	dir := g722ITUDir(t)
	ran := 0
	for _, p := range [][3]string{{"T2R1.COD", "T3L1.RC1", "T3H1.RC0"}, {"T2R2.COD", "T3L2.RC1", "T3H2.RC0"}, {"T1D3.COD", "T3L3.RC1", "T3H3.RC0"}} {
		v, ok := readITUSet(t, dir, p[:]...)
		if !ok {
			continue
		}
		in, wantL, wantH := v[0], v[1], v[2]
		var low, high band
		low.reset(detLowMin)
		high.reset(detHighMin)
		start, end := ituData(in)
		for k := start; k < end; k++ {
			code := int32(in[k] >> 8)
			rl := uint16(low.decodeLow(code&0x3F) << 1)
			rh := uint16(high.decodeHigh(code>>6) << 1)
			if rl != wantL[k] || rh != wantH[k] {
				t.Fatalf("%s sample %d (code %#02x): low %#04x high %#04x, want %#04x %#04x", p[0], k-start, code, rl, rh, wantL[k], wantH[k])
			}
		}
		t.Logf("%s → %s + %s: %d sample pairs identical", p[0], p[1], p[2], end-start)
		ran++
	}
	if ran == 0 {
		t.Skip("no decoder test sequences present")
	}
}

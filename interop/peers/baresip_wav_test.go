package peers

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWavSoFar: the length of a WAV being written is read from the file
// size, so a header still counting no data does not matter.
func TestWavSoFar(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := writeToneWAV(path, 1000, 16000, 2); err != nil {
		t.Fatal(err)
	}
	if d, err := wavSoFar(path); err != nil || d != 2*time.Second {
		t.Fatalf("wavSoFar = %v, %v; want 2s", d, err)
	}
	// What libsndfile leaves while writing: sizes still zero, data growing.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 5, 6, 7, 40, 41, 42, 43} {
		data[i] = 0
	}
	open := filepath.Join(t.TempDir(), "open.wav")
	if err := os.WriteFile(open, data[:44+16000], 0o644); err != nil { // 0.5 s
		t.Fatal(err)
	}
	if d, err := wavSoFar(open); err != nil || d != 500*time.Millisecond {
		t.Fatalf("wavSoFar(open) = %v, %v; want 500ms", d, err)
	}
	if ok, _ := wavComplete(open); ok {
		t.Error("wavComplete calls a file with a zero-size header complete")
	}
}

// FuzzWavSoFar: any file content gives a length or an error, never a panic
// or a negative length.
func FuzzWavSoFar(f *testing.F) {
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00\x01\x02"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\x7f"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.wav")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if d, err := wavSoFar(path); err == nil && d < 0 {
			t.Fatalf("negative length %v", d)
		}
	})
}

package peers

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// writeToneWAV writes a mono 16-bit PCM WAV of seconds length: a sine of
// peak amplitude 0.5 (-6 dBFS) at hz, or silence for hz == 0.
func writeToneWAV(path string, hz float64, rate, seconds int) error {
	n := rate * seconds
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+2*n))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], 1) // mono
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(2*n))
	w.Write(hdr)
	var s [2]byte
	for i := range n {
		v := 0.0
		if hz > 0 {
			v = 0.5 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
		}
		binary.LittleEndian.PutUint16(s[:], uint16(int16(math.Round(v*32767))))
		w.Write(s[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// baresip 1.0's sndfile module names its files
// <snd_path>/dump-<YYYY-MM-DD-hh-mm-ss>-<enc|dec>.wav (local time of the
// stream's first frame): "dec" is the decoded audio received from the far
// end, "enc" the audio sent (before encoding). It writes s16 mono at the
// codec's own rate (measured with baresip 1.0: 8000 Hz for PCMU/PCMA, 16000
// Hz for G.722, whose SDP clock is 8000, and 48000 Hz for Opus, configured
// mono) and only fixes the WAV header when the file is closed at the end of
// the call.
const (
	sndfileReceivedSuffix = "-dec.wav"
	sndfileSentSuffix     = "-enc.wav"
	recordingCloseWait    = 3 * time.Second
)

// Recordings returns the WAV files (sorted, oldest first) in which the
// sndfile module recorded what baresip received: the decoded far-end audio,
// one file per call, 16-bit mono at the call's codec rate (8000 Hz for
// G.711, 16000 Hz for G.722, 48000 Hz for Opus), whatever SampleRate is.
// Call it after CALL_CLOSED: it waits up to 3 s for baresip to close the
// files (only then is the WAV header complete) and
// returns an error naming any file still open, together with all paths.
// Two calls starting within the same second share a name, and the later one
// overwrites the earlier.
func (b *Baresip) Recordings() ([]string, error) {
	return b.recordings(sndfileReceivedSuffix)
}

// SentRecordings is Recordings for what baresip sent (its microphone).
func (b *Baresip) SentRecordings() ([]string, error) {
	return b.recordings(sndfileSentSuffix)
}

func (b *Baresip) recordings(suffix string) ([]string, error) {
	list := func() ([]string, error) {
		m, err := filepath.Glob(filepath.Join(b.recDir, "dump-*"+suffix))
		sort.Strings(m)
		return m, err
	}
	deadline := time.Now().Add(recordingCloseWait)
	for {
		files, err := list()
		if err != nil {
			return nil, err
		}
		var open []string
		for _, f := range files {
			if ok, err := wavComplete(f); err != nil {
				return files, err
			} else if !ok {
				open = append(open, filepath.Base(f))
			}
		}
		if len(open) == 0 {
			return files, nil
		}
		if time.Now().After(deadline) {
			return files, fmt.Errorf("baresip recordings still being written (call not closed?): %s", strings.Join(open, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wavComplete reports whether the RIFF header of path describes the whole
// file, i.e. whether libsndfile has closed it.
func wavComplete(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return false, nil
	}
	riff := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if riff+8 != st.Size() {
		return false, nil
	}
	// Walk the chunks to the data chunk and check its size too.
	off := int64(12)
	for off+8 <= st.Size() {
		var ch [8]byte
		if _, err := f.ReadAt(ch[:], off); err != nil {
			return false, nil
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		if string(ch[0:4]) == "data" {
			return size > 0 && off+8+size <= st.Size(), nil
		}
		off += 8 + size + size&1
	}
	return false, nil
}

// WaitReceivedAudio waits until the newest recording of received audio
// holds at least want of audio, or fails after timeout. Tests use it instead
// of sleeping for a fixed time: on a loaded machine the first packets can
// come a second after CALL_ESTABLISHED. The recording is read while sndfile
// still writes it (its header then counts no data yet), so the length is
// taken from the file size and the byte rate in its fmt chunk.
func (b *Baresip) WaitReceivedAudio(want, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var got time.Duration
	var err error
	for {
		var files []string
		files, err = filepath.Glob(filepath.Join(b.recDir, "dump-*"+sndfileReceivedSuffix))
		if err != nil {
			return err
		}
		if len(files) > 0 {
			sort.Strings(files)
			got, err = wavSoFar(files[len(files)-1])
			if err == nil && got >= want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("baresip received less than %v of audio within %v: %w", want, timeout, err)
			}
			return fmt.Errorf("baresip received %v of audio within %v, want %v (recordings %v)", got, timeout, want, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wavSoFar is how much audio the WAV file at path holds, counting every
// byte after the data chunk's header, whatever the header says.
func wavSoFar(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	hdr := make([]byte, 4096)
	n, _ := io.ReadFull(f, hdr)
	hdr = hdr[:n]
	if len(hdr) < 12 || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s: no RIFF/WAVE header yet", filepath.Base(path))
	}
	byteRate := 0
	for off := 12; off+8 <= len(hdr); {
		id, size := string(hdr[off:off+4]), int(binary.LittleEndian.Uint32(hdr[off+4:off+8]))
		switch id {
		case "fmt ":
			if size >= 16 && off+20 <= len(hdr) {
				byteRate = int(binary.LittleEndian.Uint32(hdr[off+16 : off+20]))
			}
		case "data":
			if byteRate <= 0 {
				return 0, fmt.Errorf("%s: data before a usable fmt chunk", filepath.Base(path))
			}
			data := st.Size() - int64(off+8)
			return time.Duration(data) * time.Second / time.Duration(byteRate), nil
		}
		if size < 0 || size > len(hdr) {
			break
		}
		off += 8 + size + size&1
	}
	return 0, fmt.Errorf("%s: no data chunk in the first %d bytes", filepath.Base(path), len(hdr))
}

package null_test

import (
	"errors"
	"testing"

	"github.com/dialtone/dialtone/audio"
	"github.com/dialtone/dialtone/audio/null"
)

func TestDevices(t *testing.T) {
	devs, err := null.New().Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != "null" || !devs[0].DefaultInput || !devs[0].DefaultOutput {
		t.Fatalf("Devices() = %+v, want one default device named null", devs)
	}
}

func TestSourceGivesSilence(t *testing.T) {
	b := null.New()
	for _, name := range []string{"", "null", "0"} {
		src, err := b.OpenSource(name)
		if err != nil {
			t.Fatalf("OpenSource(%q): %v", name, err)
		}
		frame := make([]int16, audio.FrameSamples)
		for i := range frame {
			frame[i] = 1234
		}
		for range 3 {
			if err := src.Read(frame); err != nil {
				t.Fatalf("Read: %v", err)
			}
			for i, v := range frame {
				if v != 0 {
					t.Fatalf("sample %d = %d, want silence", i, v)
				}
			}
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := src.Read(frame); !errors.Is(err, null.ErrClosed) {
			t.Fatalf("Read after Close = %v, want ErrClosed", err)
		}
	}
}

func TestSinkDiscards(t *testing.T) {
	b := null.New()
	sink, err := b.OpenSink("")
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, audio.FrameSamples)
	for range 5 {
		if err := sink.Write(frame); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if n := sink.(*null.Sink).Frames(); n != 5 {
		t.Fatalf("Frames() = %d, want 5", n)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(frame); !errors.Is(err, null.ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
}

func TestUnknownDeviceAndClosedBackend(t *testing.T) {
	b := null.New()
	if _, err := b.OpenSource("hw:0"); err == nil {
		t.Fatal("OpenSource(hw:0) succeeded, want an error naming the only device")
	}
	if _, err := b.OpenSink("1"); err == nil {
		t.Fatal("OpenSink(1) succeeded")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := b.OpenSource(""); !errors.Is(err, null.ErrClosed) {
		t.Fatalf("OpenSource after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Devices(); !errors.Is(err, null.ErrClosed) {
		t.Fatalf("Devices after Close = %v, want ErrClosed", err)
	}
}

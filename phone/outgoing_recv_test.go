package phone

import (
	"reflect"
	"testing"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/media"
	"github.com/dialtone/dialtone/phone/sdp"
)

// TestRecvOthers: the far end's other codecs and telephone-events become receive payload
// types, and one that would name two things keeps its first meaning: here the answer put its
// telephone-event on our opus's 111, so 111 is digits, never opus (its events were pushed
// into the jitter buffer as audio, re-clocking it to 48 kHz).
func TestRecvOthers(t *testing.T) {
	n := sdp.Negotiated{
		Codec: sdp.Format{PT: 9, Name: "G722", Rate: 8000, Channels: 1}, RecvPT: 9,
		DTMFPT: 111, RecvDTMFPT: 101, RecvDTMFOther: []int{110, 9},
		RecvOther: []sdp.Format{{PT: 0, Name: "PCMU", Rate: 8000, Channels: 1}, {PT: 111, Name: "opus", Rate: 48000, Channels: 2}, {PT: 101, Name: "PCMA", Rate: 8000, Channels: 1}},
	}
	other, events := recvOthers(n, false)
	if want := []media.RecvCodec{{PT: 0, Codec: codec.PCMU}}; !reflect.DeepEqual(other, want) {
		t.Errorf("other codecs %+v, want %+v", other, want)
	}
	if want := []uint8{110}; !reflect.DeepEqual(events, want) {
		t.Errorf("other events %v, want %v", events, want)
	}
}

package sdp

import "testing"

func TestParseOpusFmtp(t *testing.T) {
	tests := map[string]OpusFmtp{
		"":                                      {},
		"minptime=10;useinbandfec=1":            {MinPtime: 10, UseInbandFEC: true},
		"stereo=1;sprop-stereo=1":               {Stereo: true, SpropStereo: true},
		" maxaveragebitrate = 24000 ; usedtx=1": {MaxAverageBitrate: 24000, UseDTX: true},
		"maxplaybackrate=16000;sprop-maxcapturerate=16000;cbr=1;maxptime=40": {MaxPlaybackRate: 16000, SpropMaxCaptureRate: 16000, CBR: true, MaxPtime: 40},
		// Out of range or unknown: ignored, as RFC 7587 §7 asks.
		"maxaveragebitrate=1000;maxplaybackrate=96000;useinbandfec=0;x-foo=1;minptime": {},
		"USEINBANDFEC=1": {UseInbandFEC: true},
	}
	for in, want := range tests {
		if got := ParseOpusFmtp(in); got != want {
			t.Errorf("ParseOpusFmtp(%q) = %+v, want %+v", in, got, want)
		}
	}
}

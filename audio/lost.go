package audio

import "errors"

// ErrDeviceLost is matched (errors.Is) by the error a Source's Read or a Sink's Write returns
// once its sound device has gone away for good mid-stream: a USB headset unplugged, the sound
// server killed or hung. From then on every Read and Write returns it and does nothing else, so
// a caller can treat the source as silence and the sink as a discard (a null device) and tell
// the user once, instead of ending the call.
var ErrDeviceLost = errors.New("sound device lost")

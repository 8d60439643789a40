// Package portaudio is the sound-card backend: an audio.Backend built on PortAudio through
// cgo (github.com/gordonklaus/portaudio). It is compiled only with cgo and without the
// noportaudio tag; other builds get a stub whose New fails with ErrUnavailable, so the rest of
// dialtone builds and runs (with null or file audio) everywhere.
//
// Each Source and Sink is one PortAudio callback stream. The callback runs on PortAudio's
// real-time thread and only moves samples between the device and a bounded ring buffer; the
// media session's Read and Write touch only the ring, so neither side ever waits for the
// other. Streams are opened at 48 kHz mono when the device accepts that (PulseAudio and ALSA
// plug devices do, and hardware nearly always), otherwise at the device's default rate or in
// stereo, so that wideband calls keep their band at the speaker and microphone; a private
// resampler converts between the device's rate and the call's (8 kHz until SetRate).
package portaudio

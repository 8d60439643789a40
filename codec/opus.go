package codec

// RateController is an Encoder whose bitrate and expected loss can change during a call.
// Opus has one (when built in): the media path can follow the peer's maxaveragebitrate
// (RFC 7587 §6.1) and the loss its RTCP receiver reports give.
type RateController interface {
	// SetBitrate sets the target bitrate in bit/s.
	SetBitrate(bps int) error
	// SetLossPercent sets the packet loss the encoder should expect, in percent; in-band
	// FEC grows with it.
	SetLossPercent(pct int) error
}

package codec

import "errors"

// RFC 4733 telephone-event payload ("named events"). The static parts live here; timing,
// retransmission of the end packet and RTP marker handling belong to the media layer.

const (
	// TelephoneEventName is the rtpmap encoding name of the RFC 4733 payload.
	TelephoneEventName = "telephone-event"
	// DTMFEventLen is the size of one event block on the wire.
	DTMFEventLen = 4
	// MaxDTMFVolume is the largest volume the 6-bit field can carry (-63 dBm0).
	MaxDTMFVolume = 63
	// EventFlash is the hook-flash event code (RFC 4733 §3.2); it has no digit.
	EventFlash = 16
)

var (
	// ErrShortDTMF reports a buffer or payload shorter than DTMFEventLen.
	ErrShortDTMF = errors.New("codec: telephone-event needs 4 bytes")
	// ErrDTMFVolume reports a Volume that does not fit the 6-bit field.
	ErrDTMFVolume = errors.New("codec: telephone-event volume above 63")
)

// DTMFEvent is one RFC 4733 §2.3 event block:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type DTMFEvent struct {
	Event    uint8  // event code: 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash (RFC 4733 §3.2)
	End      bool   // E bit: this packet reports the end of the event
	Volume   uint8  // tone power in -dBm0, 0..63 (larger is quieter)
	Duration uint16 // in RTP timestamp units (1/8000 s for telephone-event/8000)
}

// MarshalTo writes the event's 4 bytes to b and returns 4. It fails if b is shorter than
// DTMFEventLen or Volume exceeds 63: masking the volume to 6 bits instead would silently
// send a different level, so the caller's bug surfaces here. The reserved R bit is always
// sent as zero (RFC 4733 §2.3.3). Event codes are not checked: all 256 are legal on the wire
// (the IANA registry and RFC 4734 assign codes beyond DTMF).
func (e DTMFEvent) MarshalTo(b []byte) (int, error) {
	if len(b) < DTMFEventLen {
		return 0, ErrShortDTMF
	}
	if e.Volume > MaxDTMFVolume {
		return 0, ErrDTMFVolume
	}
	b = b[:DTMFEventLen]
	b[0] = e.Event
	b[1] = e.Volume
	if e.End {
		b[1] |= 0x80
	}
	b[2] = byte(e.Duration >> 8)
	b[3] = byte(e.Duration)
	return DTMFEventLen, nil
}

// ParseDTMFEvent decodes the first event block of a telephone-event payload. It fails only
// on a payload shorter than DTMFEventLen; everything else is accepted:
//   - the R bit is ignored, as the receiver MUST (RFC 4733 §2.3.3);
//   - Volume is the 6-bit field, so it is always 0..63 and needs no check;
//   - bytes after the first block are ignored: RFC 4733 §2.5.1.5 lets a packet carry several
//     blocks (earlier, already ended events first), which a caller walks DTMFEventLen bytes
//     at a time;
//   - Duration 0 is returned as is: it marks a "state" event (§2.3.5), and the receiver, not
//     the parser, SHOULD ignore it for DTMF digits, which are not states.
func ParseDTMFEvent(b []byte) (DTMFEvent, error) {
	if len(b) < DTMFEventLen {
		return DTMFEvent{}, ErrShortDTMF
	}
	return DTMFEvent{
		Event:    b[0],
		End:      b[1]&0x80 != 0,
		Volume:   b[1] & 0x3F,
		Duration: uint16(b[2])<<8 | uint16(b[3]),
	}, nil
}

// dtmfDigits maps event codes 0-15 to the keypad (RFC 4733 §3.2, Table 7).
const dtmfDigits = "0123456789*#ABCD"

// DigitEvent returns the event code of a keypad key: '0'-'9', '*', '#' and 'A'-'D'
// (lower-case 'a'-'d' too, since people type them).
func DigitEvent(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return uint8(r-'A') + 12, true
	case r >= 'a' && r <= 'd':
		return uint8(r-'a') + 12, true
	}
	return 0, false
}

// EventDigit returns the keypad key of a DTMF event code 0-15 ('A'-'D' upper-case); other
// codes, flash included, have no key.
func EventDigit(ev uint8) (rune, bool) {
	if int(ev) >= len(dtmfDigits) {
		return 0, false
	}
	return rune(dtmfDigits[ev]), true
}

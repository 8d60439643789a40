package srtp

import (
	"errors"
	"fmt"

	pion "github.com/pion/srtp/v3"
)

// ProtectRTP encrypts and authenticates the plain RTP packet pkt in place and returns the
// SRTP packet: pkt extended by RTPTrailer bytes, which cap(pkt) must leave room for (else
// ErrNoRoom: nothing is allocated to make room).
func (s *Stream) ProtectRTP(pkt []byte) ([]byte, error) {
	h := s.txRTP
	if cap(pkt)-len(pkt) < h.trailer {
		s.stats.failed.Add(1)
		return nil, fmt.Errorf("%w: %d bytes after a %d-byte RTP packet, %d needed", ErrNoRoom, cap(pkt)-len(pkt), len(pkt), h.trailer)
	}
	h.mu.Lock()
	out, err := h.ctx.EncryptRTP(pkt[:0], pkt, &h.rtpHdr)
	h.mu.Unlock()
	if err != nil {
		s.stats.failed.Add(1)
		return nil, fmt.Errorf("srtp protect: %w", err)
	}
	s.stats.protected.Add(1)
	return out, nil
}

// UnprotectRTP authenticates and decrypts the SRTP packet pkt in place and returns the plain
// RTP packet, a prefix of pkt. A packet that fails is counted and its error wraps ErrAuth,
// ErrReplay or another cause; pkt's contents are then undefined.
func (s *Stream) UnprotectRTP(pkt []byte) ([]byte, error) {
	h := s.rxRTP
	h.mu.Lock()
	h.replayed = false
	out, err := h.ctx.DecryptRTP(pkt[:0], pkt, &h.rtpHdr)
	replayed := h.replayed
	h.mu.Unlock()
	if err != nil {
		return nil, s.dropped("srtp unprotect", err, replayed)
	}
	s.stats.unprotected.Add(1)
	return out, nil
}

// ProtectRTCP encrypts and authenticates the plain compound RTCP packet pkt in place and
// returns the SRTCP packet, pkt extended by RTCPTrailer bytes (cap(pkt) must leave room).
func (s *Stream) ProtectRTCP(pkt []byte) ([]byte, error) {
	h := s.txRTCP
	if cap(pkt)-len(pkt) < h.trailer {
		s.stats.failed.Add(1)
		return nil, fmt.Errorf("%w: %d bytes after a %d-byte RTCP packet, %d needed", ErrNoRoom, cap(pkt)-len(pkt), len(pkt), h.trailer)
	}
	h.mu.Lock()
	out, err := h.ctx.EncryptRTCP(pkt[:0], pkt, &h.rtcpHdr)
	h.mu.Unlock()
	if err != nil {
		s.stats.failed.Add(1)
		return nil, fmt.Errorf("srtcp protect: %w", err)
	}
	s.stats.protected.Add(1)
	return out, nil
}

// UnprotectRTCP authenticates and decrypts the SRTCP packet pkt in place and returns the
// plain compound RTCP packet, a prefix of pkt; failures are counted as UnprotectRTP's are.
func (s *Stream) UnprotectRTCP(pkt []byte) ([]byte, error) {
	h := s.rxRTCP
	h.mu.Lock()
	h.replayed = false
	out, err := h.ctx.DecryptRTCP(pkt[:0], pkt, &h.rtcpHdr)
	replayed := h.replayed
	h.mu.Unlock()
	if err != nil {
		return nil, s.dropped("srtcp unprotect", err, replayed)
	}
	s.stats.unprotected.Add(1)
	return out, nil
}

// dropped counts a packet that failed to unprotect under its cause and says which.
func (s *Stream) dropped(what string, err error, replayed bool) error {
	switch {
	case replayed:
		s.stats.replayed.Add(1)
		return ErrReplay // unwrapped: a flood of replays costs no allocation here
	case errors.Is(err, pion.ErrFailedToVerifyAuthTag):
		s.stats.authFailed.Add(1)
		return ErrAuth
	}
	s.stats.failed.Add(1)
	return fmt.Errorf("%s: %w", what, err)
}

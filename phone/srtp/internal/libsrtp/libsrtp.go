//go:build cgo && !nolibsrtp

// Package libsrtp wraps libsrtp2 (Cisco's reference SRTP, the one baresip, Asterisk and
// FreeSWITCH link) as a test peer for dialtone's SRTP: the tests check that what one side
// protects the other unprotects, and the benchmarks run it beside ours. Only tests import it;
// it needs cgo and libsrtp2-dev, and builds to a stub that reports itself unavailable with
// -tags nolibsrtp or CGO_ENABLED=0.
package libsrtp

/*
#cgo pkg-config: libsrtp2
#include <stdlib.h>
#include <string.h>
#include <srtp2/srtp.h>

// dt_create makes a session for one direction: inbound (unprotect) or outbound (protect),
// any SSRC, with the suite's RTP and RTCP policies. key is the master key||salt.
static int dt_create(srtp_t *s, int suite, int inbound, unsigned char *key, unsigned long window) {
	srtp_policy_t p;
	memset(&p, 0, sizeof p);
	switch (suite) {
	case 1: // AES_CM_128_HMAC_SHA1_80
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
		break;
	case 2: // AES_CM_128_HMAC_SHA1_32: SRTCP keeps the 80-bit tag (RFC 4568 §6.2.2)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
		break;
	case 3: // AEAD_AES_128_GCM
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
		break;
	case 4: // AEAD_AES_256_GCM
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtcp);
		break;
	default:
		return -1;
	}
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = key;
	p.window_size = window;
	return srtp_create(s, &p);
}

// dt_run runs one of libsrtp2's in-place functions on buf[0:n]: the new length, or minus
// the status. Taking the length by value keeps Go from moving it to the heap for the call.
static int dt_run(srtp_t s, int op, void *buf, int n) {
	int st;
	switch (op) {
	case 0: st = srtp_protect(s, buf, &n); break;
	case 1: st = srtp_unprotect(s, buf, &n); break;
	case 2: st = srtp_protect_rtcp(s, buf, &n); break;
	default: st = srtp_unprotect_rtcp(s, buf, &n); break;
	}
	return st == srtp_err_status_ok ? n : -st;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Available says whether this build has the peer.
const Available = true

// Suites libsrtp2 is set up for here, numbered as dt_create's switch.
const (
	AESCM128HMACSHA180 = 1
	AESCM128HMACSHA132 = 2
	AEADAES128GCM      = 3
	AEADAES256GCM      = 4
)

// MaxTrailer is the room libsrtp2 may write after a packet it protects.
const MaxTrailer = C.SRTP_MAX_TRAILER_LEN + 4

var initOnce sync.Once
var initErr error

// Session is one libsrtp2 session for one direction. Not safe for concurrent use.
type Session struct {
	s C.srtp_t
}

// New makes a session protecting (inbound false) or unprotecting (inbound true) with the
// master key||salt key for suite, replay window of window packets.
func New(suite int, inbound bool, key []byte, window int) (*Session, error) {
	initOnce.Do(func() {
		if st := C.srtp_init(); st != C.srtp_err_status_ok {
			initErr = fmt.Errorf("libsrtp2: srtp_init: status %d", int(st))
		}
	})
	if initErr != nil {
		return nil, initErr
	}
	ck := (*C.uchar)(C.CBytes(key)) // libsrtp2 copies the key into the session
	defer C.free(unsafe.Pointer(ck))
	in := C.int(0)
	if inbound {
		in = 1
	}
	s := &Session{}
	if st := C.dt_create(&s.s, C.int(suite), in, ck, C.ulong(window)); st != 0 {
		return nil, fmt.Errorf("libsrtp2: srtp_create suite %d: status %d", suite, int(st))
	}
	return s, nil
}

// Close frees the session.
func (s *Session) Close() {
	if s.s != nil {
		C.srtp_dealloc(s.s)
		s.s = nil
	}
}

// Status codes the tests tell apart.
const (
	StatusAuthFail   = int(C.srtp_err_status_auth_fail)
	StatusReplayFail = int(C.srtp_err_status_replay_fail)
	StatusReplayOld  = int(C.srtp_err_status_replay_old)
)

// Error is a libsrtp2 failure with its status code.
type Error struct {
	Op     string
	Status int
}

func (e *Error) Error() string { return fmt.Sprintf("libsrtp2 %s: status %d", e.Op, e.Status) }

// call runs one of libsrtp2's in-place functions on buf[:n], which must have MaxTrailer
// bytes of room after n when protecting; it returns the new length.
func (s *Session) call(op int, buf []byte, n int) (int, error) {
	if n > len(buf) || n <= 0 {
		return 0, fmt.Errorf("libsrtp2: %d bytes in a %d-byte buffer", n, len(buf))
	}
	r := int(C.dt_run(s.s, C.int(op), unsafe.Pointer(&buf[0]), C.int(n)))
	if r < 0 {
		return 0, &Error{Op: [...]string{"protect", "unprotect", "protect_rtcp", "unprotect_rtcp"}[op], Status: -r}
	}
	return r, nil
}

// ProtectRTP protects the RTP packet buf[:n] in place; buf needs MaxTrailer bytes beyond n.
func (s *Session) ProtectRTP(buf []byte, n int) (int, error) {
	if len(buf)-n < MaxTrailer {
		return 0, fmt.Errorf("libsrtp2: %d bytes of room, %d needed", len(buf)-n, MaxTrailer)
	}
	return s.call(0, buf, n)
}

// UnprotectRTP unprotects the SRTP packet buf[:n] in place.
func (s *Session) UnprotectRTP(buf []byte, n int) (int, error) { return s.call(1, buf, n) }

// ProtectRTCP protects the compound RTCP packet buf[:n] in place.
func (s *Session) ProtectRTCP(buf []byte, n int) (int, error) {
	if len(buf)-n < MaxTrailer {
		return 0, fmt.Errorf("libsrtp2: %d bytes of room, %d needed", len(buf)-n, MaxTrailer)
	}
	return s.call(2, buf, n)
}

// UnprotectRTCP unprotects the SRTCP packet buf[:n] in place.
func (s *Session) UnprotectRTCP(buf []byte, n int) (int, error) { return s.call(3, buf, n) }

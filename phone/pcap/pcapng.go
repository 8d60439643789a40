package pcap

import (
	"encoding/binary"
	"time"
)

// The file format written: pcapng (the format Wireshark writes by default), because it
// carries comments. The section header says what the file is and that RTP in it is
// decrypted; each packet that was SRTP on the wire says so in its own comment. One interface,
// LINKTYPE_RAW (the packets start at the IP header), nanosecond timestamps.

const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockSPB = 0x00000003
	blockEPB = 0x00000006
	blockPB  = 0x00000002 // obsolete Packet Block: read, never written

	byteOrderMagic = 0x1A2B3C4D

	optEnd      = 0
	optComment  = 1
	optUserAppl = 4 // shb_userappl
	optTSResol  = 9 // if_tsresol

	// LinkTypeRaw is LINKTYPE_RAW: each packet is an IPv4 or IPv6 packet.
	LinkTypeRaw = 101

	// snapLen is what the interface block declares: nothing is ever cut short.
	snapLen = 262144
)

var le = binary.LittleEndian

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// optLen is the size of an option with a value of n bytes.
func optLen(n int) int { return 4 + pad4(n) }

// appendOpt appends one option (code, length, value, padding).
func appendOpt(b []byte, code uint16, v string) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for range pad4(len(v)) - len(v) {
		b = append(b, 0)
	}
	return b
}

// appendHeader appends the section header block (with a comment and the writing
// application) and the one interface description block.
func appendHeader(b []byte, comment, appl string) []byte {
	opts := optLen(len(comment)) + optLen(len(appl)) + 4
	n := 28 + opts
	b = le.AppendUint32(b, blockSHB)
	b = le.AppendUint32(b, uint32(n))
	b = le.AppendUint32(b, byteOrderMagic)
	b = le.AppendUint16(b, 1) // major
	b = le.AppendUint16(b, 0) // minor
	b = le.AppendUint64(b, ^uint64(0))
	b = appendOpt(b, optComment, comment)
	b = appendOpt(b, optUserAppl, appl)
	b = appendOpt(b, optEnd, "")
	b = le.AppendUint32(b, uint32(n))

	n = 20 + optLen(1) + 4
	b = le.AppendUint32(b, blockIDB)
	b = le.AppendUint32(b, uint32(n))
	b = le.AppendUint16(b, LinkTypeRaw)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, snapLen)
	b = appendOpt(b, optTSResol, "\x09") // 10^-9 s
	b = appendOpt(b, optEnd, "")
	return le.AppendUint32(b, uint32(n))
}

// epbLen is the size of an enhanced packet block holding a packet of n bytes with comment.
func epbLen(n int, comment string) int {
	l := 32 + pad4(n)
	if comment != "" {
		l += optLen(len(comment)) + 4
	}
	return l
}

// appendEPBHead appends an enhanced packet block's fields up to its packet data, for a packet
// of n bytes captured of orig on the wire; appendEPBTail finishes the block after the data.
func appendEPBHead(b []byte, at time.Time, n, orig int, comment string) []byte {
	ts := uint64(at.UnixNano())
	b = le.AppendUint32(b, blockEPB)
	b = le.AppendUint32(b, uint32(epbLen(n, comment)))
	b = le.AppendUint32(b, 0) // interface
	b = le.AppendUint32(b, uint32(ts>>32))
	b = le.AppendUint32(b, uint32(ts))
	b = le.AppendUint32(b, uint32(n))
	return le.AppendUint32(b, uint32(orig))
}

func appendEPBTail(b []byte, n int, comment string) []byte {
	for range pad4(n) - n {
		b = append(b, 0)
	}
	if comment != "" {
		b = appendOpt(b, optComment, comment)
		b = appendOpt(b, optEnd, "")
	}
	return le.AppendUint32(b, uint32(epbLen(n, comment)))
}

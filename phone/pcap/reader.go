package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// The reader: classic libpcap files (either byte order, micro- or nanosecond timestamps) and
// pcapng (sections of either byte order, several interfaces, enhanced, simple and obsolete
// packet blocks), so `dialtone trace` reads its own captures and tcpdump's or Wireshark's.

// maxBlock bounds a block or record: a corrupt length must not make the reader allocate
// gigabytes (a real packet block is at most a jumbo frame, or a TCP segment written here).
const maxBlock = 1 << 24

// ErrFormat is wrapped by every error about a file that is not a readable capture.
var ErrFormat = errors.New("bad capture file")

// Packet is one captured frame as the file holds it.
type Packet struct {
	Time     time.Time
	LinkType int    // LINKTYPE_* of its interface
	Data     []byte // the frame, from the link-layer header on; valid until the next Next
	OrigLen  int    // its length on the wire (Data may be shorter)
	Comment  string // the pcapng packet comment, if any
}

// Reader reads packets from a capture file.
type Reader struct {
	r   *bufio.Reader
	buf []byte
	ng  bool

	// classic pcap
	order    binary.ByteOrder
	nanos    bool
	linkType int

	// pcapng: the current section's interfaces
	ifaces []iface
}

type iface struct {
	linkType int
	units    uint64 // timestamp units per second (10^6 unless if_tsresol says otherwise)
	pow2     uint   // if nonzero, units is 2^pow2
}

// NewReader reads the file header (classic or pcapng) from r.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: bufio.NewReaderSize(r, 64<<10)}
	magic, err := rd.r.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	switch {
	case binary.LittleEndian.Uint32(magic) == blockSHB:
		rd.ng = true
		return rd, nil // Next reads the section header
	case binary.LittleEndian.Uint32(magic) == 0xa1b2c3d4, binary.LittleEndian.Uint32(magic) == 0xa1b23c4d:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(magic) == 0xa1b2c3d4, binary.BigEndian.Uint32(magic) == 0xa1b23c4d:
		rd.order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: neither pcap nor pcapng (starts %x)", ErrFormat, magic)
	}
	var h [24]byte
	if _, err := io.ReadFull(rd.r, h[:]); err != nil {
		return nil, fmt.Errorf("%w: file header: %w", ErrFormat, err)
	}
	rd.nanos = rd.order.Uint32(h[0:]) == 0xa1b23c4d
	rd.linkType = int(rd.order.Uint32(h[20:]) & 0x0FFFFFFF) // the top bits may hold FCS information
	return rd, nil
}

// Next returns the next packet, or io.EOF after the last one.
func (rd *Reader) Next() (Packet, error) {
	if rd.ng {
		return rd.nextNG()
	}
	var h [16]byte
	if _, err := io.ReadFull(rd.r, h[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return Packet{}, fmt.Errorf("%w: truncated record header", ErrFormat)
		}
		return Packet{}, err // io.EOF: the end
	}
	sec, frac := rd.order.Uint32(h[0:]), rd.order.Uint32(h[4:])
	incl, orig := rd.order.Uint32(h[8:]), rd.order.Uint32(h[12:])
	if incl > maxBlock {
		return Packet{}, fmt.Errorf("%w: record of %d bytes", ErrFormat, incl)
	}
	data, err := rd.read(int(incl))
	if err != nil {
		return Packet{}, fmt.Errorf("%w: truncated record: %w", ErrFormat, cutShort(err))
	}
	ns := int64(frac) * 1000
	if rd.nanos {
		ns = int64(frac)
	}
	return Packet{Time: time.Unix(int64(sec), ns), LinkType: rd.linkType, Data: data, OrigLen: int(orig)}, nil
}

// read reads n bytes into the reused buffer.
func (rd *Reader) read(n int) ([]byte, error) {
	if cap(rd.buf) < n {
		rd.buf = make([]byte, n)
	}
	b := rd.buf[:n]
	_, err := io.ReadFull(rd.r, b)
	return b, err
}

// nextNG reads pcapng blocks until a packet block.
func (rd *Reader) nextNG() (Packet, error) {
	for {
		var h [8]byte
		if _, err := io.ReadFull(rd.r, h[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				return Packet{}, fmt.Errorf("%w: truncated block header", ErrFormat)
			}
			return Packet{}, err
		}
		typ := binary.LittleEndian.Uint32(h[0:]) // the SHB's type reads the same either way
		if typ == blockSHB {
			if err := rd.section(h); err != nil {
				return Packet{}, err
			}
			continue
		}
		if rd.order == nil {
			return Packet{}, fmt.Errorf("%w: block before the section header", ErrFormat)
		}
		typ = rd.order.Uint32(h[0:])
		n := rd.order.Uint32(h[4:])
		if n < 12 || n%4 != 0 || n > maxBlock {
			return Packet{}, fmt.Errorf("%w: block length %d", ErrFormat, n)
		}
		body, err := rd.read(int(n) - 8)
		if err != nil {
			return Packet{}, fmt.Errorf("%w: truncated block: %w", ErrFormat, cutShort(err))
		}
		if rd.order.Uint32(body[len(body)-4:]) != n {
			return Packet{}, fmt.Errorf("%w: block lengths differ", ErrFormat)
		}
		body = body[:len(body)-4]
		switch typ {
		case blockIDB:
			if err := rd.addIface(body); err != nil {
				return Packet{}, err
			}
		case blockEPB, blockPB:
			return rd.packetBlock(typ, body)
		case blockSPB:
			if len(body) < 4 || len(rd.ifaces) == 0 {
				return Packet{}, fmt.Errorf("%w: simple packet block", ErrFormat)
			}
			orig := rd.order.Uint32(body)
			data := body[4:]
			if uint32(len(data)) > orig {
				data = data[:orig] // the rest is padding
			}
			return Packet{LinkType: rd.ifaces[0].linkType, Data: data, OrigLen: int(orig)}, nil
		}
	}
}

// section reads a section header block whose first 8 bytes are h.
func (rd *Reader) section(h [8]byte) error {
	var m [4]byte
	if _, err := io.ReadFull(rd.r, m[:]); err != nil {
		return fmt.Errorf("%w: truncated section header", ErrFormat)
	}
	switch {
	case binary.LittleEndian.Uint32(m[:]) == byteOrderMagic:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(m[:]) == byteOrderMagic:
		rd.order = binary.BigEndian
	default:
		return fmt.Errorf("%w: section header byte-order magic %x", ErrFormat, m)
	}
	n := rd.order.Uint32(h[4:])
	if n < 28 || n%4 != 0 || n > maxBlock {
		return fmt.Errorf("%w: section header length %d", ErrFormat, n)
	}
	if _, err := rd.read(int(n) - 12); err != nil { // version, section length, options: unused
		return fmt.Errorf("%w: truncated section header: %w", ErrFormat, cutShort(err))
	}
	rd.ifaces = rd.ifaces[:0]
	return nil
}

// addIface reads an interface description block's body.
func (rd *Reader) addIface(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("%w: interface block", ErrFormat)
	}
	if len(rd.ifaces) >= 1024 {
		return fmt.Errorf("%w: more than 1024 interfaces", ErrFormat)
	}
	ifc := iface{linkType: int(rd.order.Uint16(b)), units: 1_000_000}
	for code, v := range rd.options(b[8:]) {
		if code == optTSResol && len(v) >= 1 {
			k := uint(v[0] & 0x7F)
			if v[0]&0x80 != 0 {
				if k == 0 || k > 63 {
					return fmt.Errorf("%w: timestamp resolution 2^-%d", ErrFormat, k)
				}
				ifc.pow2, ifc.units = k, 1<<k
			} else {
				if k > 19 {
					return fmt.Errorf("%w: timestamp resolution 10^-%d", ErrFormat, k)
				}
				ifc.units = 1
				for range k {
					ifc.units *= 10
				}
			}
		}
	}
	rd.ifaces = append(rd.ifaces, ifc)
	return nil
}

// options iterates over the options in b (stopping at opt_endofopt or at a malformed one).
func (rd *Reader) options(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		for len(b) >= 4 {
			code, l := rd.order.Uint16(b), int(rd.order.Uint16(b[2:]))
			if code == optEnd || 4+l > len(b) {
				return
			}
			if !yield(code, b[4:4+l]) {
				return
			}
			b = b[min(len(b), 4+pad4(l)):]
		}
	}
}

// packetBlock reads an enhanced (or obsolete) packet block's body.
func (rd *Reader) packetBlock(typ uint32, b []byte) (Packet, error) {
	if len(b) < 20 {
		return Packet{}, fmt.Errorf("%w: short packet block", ErrFormat)
	}
	var id uint32
	if typ == blockEPB {
		id = rd.order.Uint32(b)
	} else {
		id = uint32(rd.order.Uint16(b))
	}
	if int(id) >= len(rd.ifaces) {
		return Packet{}, fmt.Errorf("%w: packet on undeclared interface %d", ErrFormat, id)
	}
	ifc := rd.ifaces[id]
	ts := uint64(rd.order.Uint32(b[4:]))<<32 | uint64(rd.order.Uint32(b[8:]))
	capLen, orig := rd.order.Uint32(b[12:]), rd.order.Uint32(b[16:])
	if uint64(capLen) > uint64(len(b)-20) {
		return Packet{}, fmt.Errorf("%w: packet of %d bytes in a block of %d", ErrFormat, capLen, len(b))
	}
	p := Packet{Time: ifc.time(ts), LinkType: ifc.linkType, Data: b[20 : 20+capLen], OrigLen: int(orig)}
	for code, v := range rd.options(b[20+pad4(int(capLen)):]) {
		if code == optComment {
			p.Comment = string(v)
		}
	}
	return p, nil
}

// time converts a timestamp in the interface's units.
func (ifc iface) time(ts uint64) time.Time {
	sec, frac := ts/ifc.units, ts%ifc.units
	var ns uint64
	switch {
	case ifc.pow2 != 0:
		hi, lo := bits.Mul64(frac, 1e9)
		ns = hi<<(64-ifc.pow2) | lo>>ifc.pow2
	case ifc.units <= 1e9:
		ns = frac * (1e9 / ifc.units)
	default:
		ns = frac / (ifc.units / 1e9)
	}
	if sec > 1<<40 {
		sec = 1 << 40 // nonsense, but keep time.Unix from overflowing
	}
	return time.Unix(int64(sec), int64(ns))
}

// cutShort is err for a read that came up short after a header said more follows: the end of
// the file there is a capture cut short, not its end (io.EOF would read as a clean end).
func cutShort(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Package pcap writes what dialtone sends and receives (SIP, and RTP/RTCP if asked) as a
// capture file Wireshark and tshark open, and reads capture files back (its own and others')
// for `dialtone trace`. Standard library only: the formats are small and fixed.
//
// SIP is written as the transport carried it: UDP as UDP, TCP as TCP on the real ports. SIP
// over TLS is written decrypted, as TCP on the real ports (port 5061 needs Wireshark's
// "Decode As… SIP" there, or the SIP heuristic, since Wireshark expects TLS on 5061).
// Whoever writes SIP here masks SRTP keys first (srtp.MaskCryptoLines): this package has no
// opinion on bodies. RTP and RTCP are written as the media path sees them: plain, i.e.
// decrypted on an SRTP call (each such packet carries a comment saying so).
package pcap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// DefaultMaxBytes caps a capture file's size when Options.MaxBytes is 0: packets past it
	// are counted, not written.
	DefaultMaxBytes = 256 << 20
	// DefaultQueueLen is how many media packets may wait to be written when Options.QueueLen
	// is 0: about 5 s of one call's RTP and RTCP both ways.
	DefaultQueueLen = 1024
	// MaxMediaLen is the longest media packet kept whole; longer ones are cut (the IP and UDP
	// headers still give their real length).
	MaxMediaLen = 1500
	// DecryptedComment is the comment on media packets that were SRTP on the wire.
	DecryptedComment = "decrypted by dialtone: SRTP on the wire, written as plain RTP/RTCP"
	// SectionComment is the file's comment.
	SectionComment = "dialtone capture: synthetic IP/UDP/TCP headers; SIP over TLS written as plain TCP; " +
		"RTP/RTCP of SRTP calls written decrypted; SRTP keys in SDP masked"
)

// ErrFull is returned once the file reached its size cap.
var ErrFull = errors.New("pcap: size cap reached")

// Options tune a Writer; the zero value is usable.
type Options struct {
	MaxBytes int64            // file size cap; 0 means DefaultMaxBytes
	QueueLen int              // media packets that may wait; 0 means DefaultQueueLen
	Now      func() time.Time // capture timestamps; nil means time.Now
}

// Stats counts what a Writer did.
type Stats struct {
	Packets uint64 // written
	Dropped uint64 // media packets not written because the queue was full
	Capped  uint64 // packets not written because the file reached its size cap
	Bytes   int64  // file size so far
}

// Writer writes a capture. WriteSIP writes at once (SIP is rare, and the caller's goroutine
// may wait for the disk); WriteMedia never waits: it copies the packet into a free slot of a
// bounded queue, or drops and counts it when none is free. Safe for concurrent use.
type Writer struct {
	now func() time.Time

	mu     sync.Mutex // guards everything below it, and the file
	out    *bufio.Writer
	file   io.Closer
	blk    []byte // one block being built
	pkt    []byte // one packet being built
	tcp    map[flow]uint32
	size   atomic.Int64 // written under mu; Stats reads it without waiting for a stalled disk
	max    int64
	err    error // the first write error: nothing is written after it
	closed bool

	free, queue chan *slot
	done        chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once
	closeErr    error

	packets, dropped, capped atomic.Uint64
	stopped                  atomic.Bool // Close began: WriteMedia takes nothing more
}

// flow is one direction of a TCP connection.
type flow struct{ src, dst netip.AddrPort }

// slot holds one media packet waiting in the queue.
type slot struct {
	at        time.Time
	src, dst  netip.AddrPort
	n, orig   int
	decrypted bool
	data      [MaxMediaLen]byte
}

// Create creates (or truncates) the file at path, mode 0600, and writes the header.
func Create(path string, o Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pcap: %w", err)
	}
	w, err := NewWriter(f, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file = f
	return w, nil
}

// NewWriter writes the header to out and returns a Writer of packets to it. Close does not
// close out.
func NewWriter(out io.Writer, o Options) (*Writer, error) {
	w := &Writer{now: o.Now, out: bufio.NewWriterSize(out, 64<<10), tcp: map[flow]uint32{},
		max: o.MaxBytes, done: make(chan struct{}), blk: make([]byte, 0, 4096), pkt: make([]byte, 4096)}
	if w.now == nil {
		w.now = time.Now
	}
	if w.max <= 0 {
		w.max = DefaultMaxBytes
	}
	n := o.QueueLen
	if n <= 0 {
		n = DefaultQueueLen
	}
	w.free, w.queue = make(chan *slot, n), make(chan *slot, n)
	for range n {
		w.free <- new(slot)
	}
	w.blk = appendHeader(w.blk[:0], SectionComment, "dialtone")
	if _, err := w.out.Write(w.blk); err != nil {
		return nil, fmt.Errorf("pcap: header: %w", err)
	}
	if err := w.out.Flush(); err != nil {
		return nil, fmt.Errorf("pcap: header: %w", err)
	}
	w.size.Store(int64(len(w.blk)))
	w.wg.Add(1)
	go w.drain()
	return w, nil
}

// WriteSIP writes one SIP message (or, on a stream transport, the bytes one read or write
// carried) from src to dst over transport ("UDP", "TCP", "TLS", "WS", "WSS": every
// transport but UDP is written as TCP); sent says dialtone sent it (else received it), which
// the packet's comment records (CommentSent, CommentReceived).
func (w *Writer) WriteSIP(transport string, sent bool, src, dst netip.AddrPort, msg []byte) error {
	return w.WriteSIPAt(w.now(), transport, sent, src, dst, msg)
}

// WriteSIPAt is WriteSIP with the capture time given (a message held back to follow the one
// that caused it).
func (w *Writer) WriteSIPAt(at time.Time, transport string, sent bool, src, dst netip.AddrPort, msg []byte) error {
	comment := CommentReceived
	if sent {
		comment = CommentSent
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	if strings.EqualFold(transport, "UDP") {
		if len(msg) > 65535-ipv6HeaderLen-udpHeaderLen {
			msg = msg[:65535-ipv6HeaderLen-udpHeaderLen] // no UDP datagram is longer
		}
		w.writePacket(at, protoUDP, src, dst, segment{}, msg, len(msg), comment)
	} else {
		f := flow{src, dst}
		for len(msg) > 0 {
			part := msg[:min(len(msg), maxIPPayload)]
			seq := w.nextSeq(f)
			w.writePacket(at, protoTCP, src, dst, segment{seq: seq, ack: w.nextSeq(flow{dst, src})}, part, len(part), comment)
			w.tcp[f] = seq + uint32(len(part))
			msg = msg[len(part):]
		}
	}
	w.flush()
	return w.err
}

// nextSeq is the next sequence number of a TCP flow (1 for a flow not seen yet).
func (w *Writer) nextSeq(f flow) uint32 {
	if s, ok := w.tcp[f]; ok {
		return s
	}
	w.tcp[f] = 1
	return 1
}

// WriteMedia queues one RTP or RTCP packet sent from src to dst; decrypted says it was SRTP
// on the wire. It never blocks and never allocates: it returns false when the packet was
// dropped (the queue is full, or the writer is closed).
func (w *Writer) WriteMedia(src, dst netip.AddrPort, b []byte, decrypted bool) bool {
	if w.stopped.Load() {
		return false
	}
	var s *slot
	select {
	case s = <-w.free:
	default:
		w.dropped.Add(1)
		return false
	}
	s.at, s.src, s.dst, s.decrypted, s.orig = w.now(), src, dst, decrypted, len(b)
	s.n = copy(s.data[:], b)
	w.queue <- s // never blocks: there are as many places in the queue as slots
	return true
}

// drain writes queued media packets until Close.
func (w *Writer) drain() {
	defer w.wg.Done()
	for {
		select {
		case s := <-w.queue:
			w.writeSlot(s)
		case <-w.done:
			for {
				select {
				case s := <-w.queue:
					w.writeSlot(s)
				default:
					return
				}
			}
		}
	}
}

func (w *Writer) writeSlot(s *slot) {
	w.mu.Lock()
	if !w.closed {
		comment := ""
		if s.decrypted {
			comment = DecryptedComment
		}
		w.writePacket(s.at, protoUDP, s.src, s.dst, segment{}, s.data[:s.n], s.orig, comment)
		if len(w.queue) == 0 {
			w.flush() // idle: what was written reaches the file now, not at Close
		}
	}
	w.mu.Unlock()
	w.free <- s
}

// writePacket writes one packet with synthetic headers; orig is the payload's real length
// (payload may be cut short of it). Called with mu held.
func (w *Writer) writePacket(at time.Time, proto uint8, src, dst netip.AddrPort, seg segment, payload []byte, orig int, comment string) {
	if w.err != nil {
		return
	}
	n := headerLen(src, dst, proto) + len(payload)
	if int64(epbLen(n, comment))+w.size.Load() > w.max {
		w.capped.Add(1)
		return
	}
	if cap(w.pkt) < n {
		w.pkt = make([]byte, n)
	}
	pkt := buildPacket(w.pkt[:cap(w.pkt)], proto, src, dst, seg, payload)
	wireLen := len(pkt)
	if orig > len(payload) && proto == protoUDP { // longer than a slot: the headers say how long it was
		wireLen += orig - len(payload)
		cutUDP(pkt, wireLen)
	}
	w.blk = appendEPBHead(w.blk[:0], at, len(pkt), wireLen, comment)
	if _, err := w.out.Write(w.blk); err != nil {
		w.err = fmt.Errorf("pcap: %w", err)
		return
	}
	if _, err := w.out.Write(pkt); err != nil {
		w.err = fmt.Errorf("pcap: %w", err)
		return
	}
	w.blk = appendEPBTail(w.blk[:0], len(pkt), comment)
	if _, err := w.out.Write(w.blk); err != nil {
		w.err = fmt.Errorf("pcap: %w", err)
		return
	}
	w.size.Add(int64(epbLen(len(pkt), comment)))
	w.packets.Add(1)
}

func (w *Writer) flush() {
	if w.err == nil {
		if err := w.out.Flush(); err != nil {
			w.err = fmt.Errorf("pcap: %w", err)
		}
	}
}

// Stats returns the counts so far. It never waits (not even for a stalled disk).
func (w *Writer) Stats() Stats {
	return Stats{Packets: w.packets.Load(), Dropped: w.dropped.Load(), Capped: w.capped.Load(), Bytes: w.size.Load()}
}

// Full reports whether a packet was not written for the size cap.
func (w *Writer) Full() bool { return w.capped.Load() > 0 }

// Close writes what is queued, flushes and closes the file (if Create opened it). Packets
// given after Close are dropped. It is idempotent.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.stopped.Store(true)
		close(w.done)
		w.wg.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		w.closed = true
		w.flush()
		w.closeErr = w.err
		if w.file != nil {
			if err := w.file.Close(); err != nil && w.closeErr == nil {
				w.closeErr = fmt.Errorf("pcap: %w", err)
			}
		}
	})
	return w.closeErr
}

package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Handler carries out one valid command and returns its reply. It is called from the
// connection's own goroutine, so it may block (a dial resolves names) without holding up
// other clients or the event stream.
type Handler func(ctx context.Context, c Command) Reply

// DefaultQueue is how many lines (events and replies) may wait for one client. A client that
// lets more pile up is disconnected: the phone never waits for a reader.
const DefaultQueue = 512

// writeTimeout bounds one write to a client whose socket buffer is full.
const writeTimeout = 5 * time.Second

// Server listens on a unix socket, answers commands and fans events out to every client.
type Server struct {
	path   string
	ln     *net.UnixListener
	handle Handler
	log    *slog.Logger
	queue  int
	now    func() time.Time

	mu      sync.Mutex
	clients map[*client]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// Listen creates the socket at path (its directory made 0700 if missing, the socket 0600).
// A stale socket left by a crashed server is replaced; one a live server answers on is not.
func Listen(path string, h Handler, log *slog.Logger, queue int) (*Server, error) {
	if queue <= 0 {
		queue = DefaultQueue
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			// Not a socket (a mistyped --control naming the config file, a directory): never
			// removed, whatever it is.
			return nil, fmt.Errorf("control socket %s: something that is not a socket is there; give another path", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another dialtone serve is listening there", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: removing the stale socket: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	// The directory is ours (0700) by default; chmod covers a --control path elsewhere.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(true)
	return &Server{path: path, ln: ln, handle: h, log: log, queue: queue, now: time.Now, clients: map[*client]struct{}{}}, nil
}

// Path is where the server listens.
func (s *Server) Path() string { return s.path }

// Serve accepts clients until ctx ends, then disconnects them all and returns once every
// connection goroutine has stopped.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	var err error
	for {
		conn, aerr := s.ln.AcceptUnix()
		if aerr != nil {
			if ctx.Err() == nil && !errors.Is(aerr, net.ErrClosed) {
				err = fmt.Errorf("control socket %s: %w", s.path, aerr)
			}
			break
		}
		s.add(ctx, conn)
	}
	s.mu.Lock()
	s.closed = true
	for c := range s.clients {
		c.drop("dialtone serve is stopping")
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Clients is how many clients are connected.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Broadcast queues one NDJSON line (with its newline) for every client. It never blocks: a
// client whose queue is full is disconnected.
func (s *Server) Broadcast(line []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.send(line)
	}
}

// client is one connection: a reader that runs commands and a writer that drains the queue.
type client struct {
	s      *Server
	conn   *net.UnixConn
	out    chan []byte
	gone   chan struct{} // closed by drop: the writer says goodbye and closes
	once   sync.Once
	reason string
}

func (s *Server) add(ctx context.Context, conn *net.UnixConn) {
	c := &client{s: s, conn: conn, out: make(chan []byte, s.queue), gone: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.clients[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go c.write()
	go c.read(ctx)
}

// send queues a line without blocking; a full queue disconnects the client.
func (c *client) send(line []byte) {
	select {
	case <-c.gone:
	case c.out <- line:
	default:
		c.drop(fmt.Sprintf("too slow: %d lines queued unread", cap(c.out)))
	}
}

// drop disconnects the client once, for reason. It never blocks.
func (c *client) drop(reason string) {
	c.once.Do(func() {
		c.reason = reason
		close(c.gone)
		// A writer stuck on a full socket buffer gives up now rather than after writeTimeout.
		_ = c.conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	})
}

// write drains the queue to the socket. On drop it sends a last "disconnected" line with the
// reason (best effort: a client that does not read may never see it) and closes.
func (c *client) write() {
	defer c.s.wg.Done()
	defer c.forget()
	for {
		select {
		case <-c.gone:
			bye, _ := json.Marshal(map[string]string{"event": "disconnected", "time": c.s.now().Format(time.RFC3339), "reason": c.reason})
			_ = c.conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = c.conn.Write(append(bye, '\n'))
			c.conn.Close()
			return
		case line := <-c.out:
			if c.dropped() {
				continue // both were ready and select chose the line: go to the goodbye
			}
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			// drop closes gone and then shortens the deadline: if it came between the check
			// above and our deadline, it would have been overwritten and a dropped client
			// kept for writeTimeout (once per queued line) instead of 100 ms.
			if c.dropped() {
				_ = c.conn.SetWriteDeadline(time.Now())
			}
			if _, err := c.conn.Write(line); err != nil {
				c.drop(fmt.Sprintf("write: %v", err))
			}
		}
	}
}

// dropped says whether drop has been called.
func (c *client) dropped() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

func (c *client) forget() {
	c.s.mu.Lock()
	delete(c.s.clients, c)
	c.s.mu.Unlock()
	if c.s.log != nil && c.reason != "" {
		c.s.log.Info("control client disconnected", "reason", c.reason)
	}
}

// read runs the client's commands in order, one reply each, until the client closes or is
// dropped.
func (c *client) read(ctx context.Context) {
	defer c.s.wg.Done()
	stop := context.AfterFunc(ctx, func() { c.drop("dialtone serve is stopping") })
	defer stop()
	go func() { // the reader's Read ends when drop closes the connection (the writer does)
		<-c.gone
		_ = c.conn.SetReadDeadline(time.Now())
	}()
	r := NewLineReader(c.conn)
	for {
		line, err := r.Next()
		if errors.Is(err, ErrLineTooLong) {
			c.send(Fail(Command{}, c.s.now(), err).Marshal())
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				c.drop("closed by the client")
			} else {
				c.drop(fmt.Sprintf("read: %v", err))
			}
			return
		}
		cmd, perr := ParseCommand(line)
		if errors.Is(perr, ErrEmpty) {
			continue
		}
		var rep Reply
		if perr != nil {
			rep = Fail(cmd, c.s.now(), perr)
		} else {
			rep = c.s.handle(ctx, cmd)
		}
		select {
		case <-c.gone:
			return
		default:
			c.send(rep.Marshal())
		}
	}
}

// ErrLineTooLong is a line over MaxLine bytes; the rest of it is skipped.
var ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

// LineReader splits a stream into lines of at most MaxLine bytes. Unlike bufio.Scanner it
// survives an overlong line: it reports ErrLineTooLong once, skips to the next newline and
// goes on, so a client's mistake costs one error reply, not the connection.
type LineReader struct {
	r *bufio.Reader
}

// NewLineReader reads lines from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, MaxLine+1)}
}

// Next returns the next line without its line ending. A last line without a newline is
// returned before io.EOF.
func (l *LineReader) Next() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.r.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, ErrLineTooLong
	}
	if err != nil && (!errors.Is(err, io.EOF) || len(line) == 0) {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

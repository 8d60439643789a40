package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// ErrUnreachable wraps a failure to connect: no dialtone serve listens at the path.
var ErrUnreachable = errors.New("no dialtone serve is listening")

// Dial connects to a control socket.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w (%v)", path, ErrUnreachable, err)
	}
	return conn, nil
}

// Do sends one command on a fresh connection and returns its reply, skipping the events
// that arrive meanwhile. The command gets an id if it has none, to match the reply.
func Do(ctx context.Context, path string, c Command) (Reply, error) {
	conn, err := Dial(ctx, path)
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if len(c.ID) == 0 {
		c.ID = json.RawMessage(strconv.Quote(fmt.Sprintf("ctl-%d", time.Now().UnixNano())))
	}
	line, err := c.Marshal()
	if err != nil {
		return Reply{}, err
	}
	if _, err := conn.Write(line); err != nil {
		return Reply{}, fmt.Errorf("control socket %s: sending: %w", path, err)
	}
	r := NewLineReader(conn)
	for {
		l, err := r.Next()
		if errors.Is(err, ErrLineTooLong) {
			continue // an event we do not need
		}
		if err != nil {
			if ctx.Err() != nil {
				return Reply{}, fmt.Errorf("control socket %s: no reply: %w", path, ctx.Err())
			}
			if errors.Is(err, io.EOF) {
				return Reply{}, fmt.Errorf("control socket %s: closed before the reply", path)
			}
			return Reply{}, fmt.Errorf("control socket %s: %w", path, err)
		}
		var head struct {
			Event string          `json:"event"`
			ID    json.RawMessage `json:"id"`
		}
		bad := json.Unmarshal(l, &head) != nil
		// A reply without an id answers a line the server could not read (too long, not
		// JSON): ours, the only command in flight, rather than waiting out the timeout.
		noID := len(head.ID) == 0 || string(head.ID) == "null"
		if bad || head.Event != "reply" || !bytes.Equal(head.ID, c.ID) && !noID {
			if head.Event == "disconnected" {
				return Reply{}, fmt.Errorf("control socket %s: disconnected: %s", path, l)
			}
			continue
		}
		return ParseReply(l)
	}
}

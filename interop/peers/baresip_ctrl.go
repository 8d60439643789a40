package peers

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// baresipCtrl speaks baresip's ctrl_tcp protocol: netstrings ("LEN:DATA,")
// carrying JSON. Commands are {"command":..,"params":..,"token":..};
// responses carry "response":true and the token; events carry "event":true.
type baresipCtrl struct {
	conn net.Conn
	exit <-chan struct{} // closed when the process exits

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex
	seq     int
	pending map[string]chan baresipResponse
	queue   []BaresipEvent // not yet consumed
	all     []BaresipEvent // every event, for diagnostics
	notify  chan struct{}  // closed and replaced on every event
	readErr error          // set when the reader stops
	readEnd chan struct{}  // closed when the reader stops
}

type baresipResponse struct {
	OK    bool   `json:"ok"`
	Data  string `json:"data"`
	Token string `json:"token"`
}

const maxNetstring = 16 << 20

func newBaresipCtrl(conn net.Conn, exit <-chan struct{}) *baresipCtrl {
	c := &baresipCtrl{
		conn:    conn,
		exit:    exit,
		pending: map[string]chan baresipResponse{},
		notify:  make(chan struct{}),
		readEnd: make(chan struct{}),
	}
	go c.read()
	return c
}

func (c *baresipCtrl) read() {
	r := bufio.NewReader(c.conn)
	var err error
	for {
		var msg []byte
		msg, err = readNetstring(r)
		if err != nil {
			break
		}
		c.dispatch(msg)
	}
	c.mu.Lock()
	c.readErr = err
	for tok, ch := range c.pending {
		close(ch)
		delete(c.pending, tok)
	}
	close(c.notify)
	c.notify = make(chan struct{})
	c.mu.Unlock()
	close(c.readEnd)
}

func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[:len(head)-1]))
	if err != nil || n < 0 || n > maxNetstring {
		return nil, fmt.Errorf("bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("netstring not terminated by ',' (got %q)", buf[n])
	}
	return buf[:n], nil
}

func (c *baresipCtrl) dispatch(msg []byte) {
	var raw map[string]any
	if err := json.Unmarshal(msg, &raw); err != nil {
		return // not ours to judge; baresip only sends JSON
	}
	if b, _ := raw["response"].(bool); b {
		var res baresipResponse
		_ = json.Unmarshal(msg, &res)
		c.mu.Lock()
		ch, ok := c.pending[res.Token]
		delete(c.pending, res.Token)
		c.mu.Unlock()
		if ok {
			ch <- res
		}
		return
	}
	if b, _ := raw["event"].(bool); b {
		str := func(k string) string { s, _ := raw[k].(string); return s }
		ev := BaresipEvent{
			Type:       str("type"),
			Class:      str("class"),
			AccountAOR: str("accountaor"),
			Direction:  str("direction"),
			PeerURI:    str("peeruri"),
			Param:      str("param"),
			Raw:        raw,
		}
		c.mu.Lock()
		c.queue = append(c.queue, ev)
		c.all = append(c.all, ev)
		close(c.notify)
		c.notify = make(chan struct{})
		c.mu.Unlock()
	}
}

func (c *baresipCtrl) send(cmd, params, token string) error {
	msg, err := json.Marshal(map[string]string{"command": cmd, "params": params, "token": token})
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(baresipCommandTimeout))
	_, err = fmt.Fprintf(c.conn, "%d:%s,", len(msg), msg)
	return err
}

func (c *baresipCtrl) command(cmd, params string, timeout time.Duration) (string, error) {
	ch := make(chan baresipResponse, 1)
	c.mu.Lock()
	if c.readErr != nil {
		err := c.readErr
		c.mu.Unlock()
		return "", fmt.Errorf("baresip ctrl_tcp closed: %v", err)
	}
	c.seq++
	token := "t" + strconv.Itoa(c.seq)
	c.pending[token] = ch
	c.mu.Unlock()

	if err := c.send(cmd, params, token); err != nil {
		c.mu.Lock()
		delete(c.pending, token)
		c.mu.Unlock()
		return "", fmt.Errorf("baresip command %q: %v", cmd, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res, ok := <-ch:
		if !ok {
			return "", fmt.Errorf("baresip command %q: ctrl_tcp closed", cmd)
		}
		if !res.OK {
			return res.Data, fmt.Errorf("baresip command %q %q failed: %s", cmd, params, strings.TrimSpace(res.Data))
		}
		return res.Data, nil
	case <-t.C:
		c.mu.Lock()
		delete(c.pending, token)
		c.mu.Unlock()
		return "", fmt.Errorf("baresip command %q: no response within %v", cmd, timeout)
	}
}

// take removes and returns the oldest queued event matching match.
func (c *baresipCtrl) take(match func(BaresipEvent) bool) (BaresipEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked(match)
}

func (c *baresipCtrl) takeLocked(match func(BaresipEvent) bool) (BaresipEvent, bool) {
	for i, ev := range c.queue {
		if match(ev) {
			c.queue = append(c.queue[:i:i], c.queue[i+1:]...)
			return ev, true
		}
	}
	return BaresipEvent{}, false
}

// wait blocks until a new event arrives, the connection or process ends, or d
// passes.
func (c *baresipCtrl) wait(d time.Duration) {
	c.mu.Lock()
	n := c.notify
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-n:
	case <-c.exit:
	case <-t.C:
	}
}

var errBaresipGone = errors.New("baresip exited")

func (c *baresipCtrl) waitEvent(match func(BaresipEvent) bool, timeout time.Duration) (BaresipEvent, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		if ev, ok := c.takeLocked(match); ok {
			c.mu.Unlock()
			return ev, nil
		}
		if c.readErr != nil {
			err := c.readErr
			c.mu.Unlock()
			return BaresipEvent{}, fmt.Errorf("ctrl_tcp closed: %v", err)
		}
		n := c.notify
		c.mu.Unlock()
		select {
		case <-n:
		case <-c.exit:
			// Let the reader drain what baresip sent before it died.
			select {
			case <-c.readEnd:
			case <-time.After(500 * time.Millisecond):
			}
			c.mu.Lock()
			ev, ok := c.takeLocked(match)
			c.mu.Unlock()
			if ok {
				return ev, nil
			}
			return BaresipEvent{}, errBaresipGone
		case <-t.C:
			return BaresipEvent{}, fmt.Errorf("timeout after %v", timeout)
		}
	}
}

func (c *baresipCtrl) allEvents() []BaresipEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]BaresipEvent(nil), c.all...)
}

// history is a short list of the event types seen, for error messages.
func (c *baresipCtrl) history() string {
	evs := c.allEvents()
	if len(evs) == 0 {
		return "none"
	}
	parts := make([]string, len(evs))
	for i, ev := range evs {
		parts[i] = ev.Type
		if ev.Param != "" {
			parts[i] += "(" + ev.Param + ")"
		}
	}
	return strings.Join(parts, ", ")
}

func (c *baresipCtrl) close() {
	c.conn.Close()
	<-c.readEnd
}

package phone

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone/media"
	"github.com/emiago/sipgo/sip"
)

// DTMF by SIP INFO, sent: when the far end did not negotiate telephone-event (a PBX or gateway
// configured for INFO, an old IVR), its digits go as INFO requests in the dialog with Cisco's
// application/dtmf-relay body, the form PBXs take (Asterisk, FreeSWITCH, CUCM). Before, such a
// call got no digits at all ("the far end did not negotiate telephone-event"), and an IVR
// behind it could not be used.

const (
	// infoDigit is each digit's Duration=: what the far end plays, as long as our RFC 4733
	// digits last; the next INFO goes that and DTMFGap after it.
	infoDigit = media.DTMFDuration
	// infoPause is a ',' in the digits: a pause, as for RFC 4733 digits.
	infoPause = 500 * time.Millisecond
	// infoTimeout bounds one INFO's transaction: a far end that does not answer stops the rest.
	infoTimeout = 5 * time.Second
	// maxInfoDigits bounds the digits waiting: more is a runaway script.
	maxInfoDigits = 256
)

// dtmfInfo is a call's digits waiting to go as INFO. sending: a sender owns the queue (talk
// starts one when kicked); kick wakes talk, which makes it when it starts.
type dtmfInfo struct {
	digits  []rune
	sending bool
	kick    chan struct{}
}

// queueDTMFInfo queues digits to go as INFO on c and wakes its talk loop to send them.
func (p *Phone) queueDTMFInfo(c *call, digits string) error {
	if err := media.ValidDTMF(digits); err != nil {
		return fmt.Errorf("call %s: %w", c.id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.info.digits)+len(digits) > maxInfoDigits {
		return fmt.Errorf("call %s: dtmf: %d digits already waiting to be sent", c.id, len(c.info.digits))
	}
	c.info.digits = append(c.info.digits, []rune(digits)...)
	if !c.info.sending && c.info.kick != nil {
		c.info.sending = true
		select {
		case c.info.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// infoKick makes c's kick channel for its talk loop, and says whether digits wait already.
func (c *call) infoKick() (<-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.info.kick = make(chan struct{}, 1)
	waiting := len(c.info.digits) > 0 && !c.info.sending
	if waiting {
		c.info.sending = true
	}
	return c.info.kick, waiting
}

// nextInfoDigit pops the next digit, or, with none left, gives the queue up.
func (c *call) nextInfoDigit() (rune, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.info.digits) == 0 {
		c.info.sending = false
		return 0, false
	}
	d := c.info.digits[0]
	c.info.digits = c.info.digits[1:]
	return d, true
}

// startInfo starts the sender of the call's INFO digits, which the hold run owns (its close
// stops and waits for it). queueDTMFInfo and infoKick let one run at a time. It stops too when
// the call is hung up or the far end's BYE comes: no INFO follows our BYE, or theirs.
func (h *holdRun) startInfo() {
	ctx, cancel := context.WithCancel(h.ctx)
	stopOnBye := context.AfterFunc(h.d.Context(), cancel)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer cancel()
		defer stopOnBye()
		go func() { // ends with ctx, which the sender's return cancels
			select {
			case <-h.c.hangupCh:
				cancel()
			case <-ctx.Done():
			}
		}()
		h.sendDTMFInfo(ctx)
	}()
}

// sendDTMFInfo sends c's queued digits as INFO requests, one after another's final response,
// a digit's duration and DTMFGap apart (as RFC 4733 digits go), until none is left or ctx
// ends. A refused or unanswered INFO drops the rest: a far end that takes no INFO would refuse
// each; digits asked for later go again.
func (h *holdRun) sendDTMFInfo(ctx context.Context) {
	p, c := h.p, h.c
	drop := func() { // what is left after a failure or the call's end is not sent
		c.mu.Lock()
		c.info.digits, c.info.sending = nil, false
		c.mu.Unlock()
	}
	for {
		d, ok := c.nextInfoDigit() // none left: it gave the queue up
		if !ok {
			return
		}
		if c.onHold() { // no DTMF on hold, as SendDTMF says: the rest is dropped
			p.log.Info("DTMF by INFO: the call went on hold; the digits left are not sent", "call", c.id)
			drop()
			return
		}
		if d == ',' {
			if !sleepCtx(ctx, infoPause) {
				drop()
				return
			}
			continue
		}
		sent := time.Now()
		if err := h.info(ctx, d); err != nil {
			if ctx.Err() == nil {
				p.log.Warn("DTMF by INFO failed; the digits left are not sent", "call", c.id, "digit", string(d), "err", err)
			}
			drop()
			return
		}
		if !sleepCtx(ctx, time.Until(sent.Add(infoDigit+media.DTMFGap))) {
			drop()
			return
		}
	}
}

// info sends one digit as an INFO in the call's dialog and waits for its final response,
// infoTimeout at most once it has its turn in the dialog (a re-INVITE of ours may hold it).
func (h *holdRun) info(ctx context.Context, d rune) error {
	target, ok := remoteTarget(h.d)
	if !ok {
		return fmt.Errorf("no Contact from the far end to send INFO to")
	}
	c := h.c
	req := sip.NewRequest(sip.INFO, c.targetOr(target))
	ct := sip.ContentTypeHeader("application/dtmf-relay")
	req.AppendHeader(&ct)
	signal := strings.ToUpper(string(d)) // A-D as CUCM takes them
	req.SetBody([]byte("Signal=" + signal + "\r\nDuration=" + strconv.Itoa(int(infoDigit/time.Millisecond)) + "\r\n"))
	var res *sip.Response
	err := c.sendInDialog(ctx, func() error {
		dctx, cancel := context.WithTimeout(ctx, infoTimeout)
		defer cancel()
		var err error
		res, err = h.d.Do(dctx, req)
		return err
	})
	switch {
	case err != nil:
		return err
	case !res.IsSuccess():
		return fmt.Errorf("INFO answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// sleepCtx waits d, or less when ctx ends first: false then.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

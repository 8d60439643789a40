package phone

import (
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// countingTx is a server transaction that counts the responses written on it; a write
// waits for hold, if set, to close.
type countingTx struct {
	sip.ServerTransaction // nil: only Respond, Done and Err are called
	mu                    sync.Mutex
	writes                []*sip.Response
	hold                  chan struct{}
	done                  chan struct{}
}

func (t *countingTx) Respond(res *sip.Response) error {
	if t.hold != nil {
		<-t.hold
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes = append(t.writes, res)
	return nil
}

func (t *countingTx) Done() <-chan struct{} { return t.done } // nil: never
func (t *countingTx) Err() error            { return nil }

func (t *countingTx) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.writes)
}

func okResponse() *sip.Response {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1"})
	return sip.NewResponseFromRequest(req, 200, "OK", nil)
}

// TestWriteFirstIsNotWrittenTwice: the 200 the call's goroutine writes itself is not written
// again when sipgo's WriteResponse takes it over; its retransmissions are.
func TestWriteFirstIsNotWrittenTwice(t *testing.T) {
	tx := &countingTx{}
	otx := newAfterOK(tx)
	res := okResponse()
	if err := otx.writeFirst(res); err != nil {
		t.Fatal(err)
	}
	if n := tx.count(); n != 1 {
		t.Fatalf("writeFirst wrote %d responses, want 1", n)
	}
	_ = otx.Respond(res) // WriteResponse's first write: the dialog takes it over
	if n := tx.count(); n != 1 {
		t.Fatalf("the hand-over wrote the 200 again: %d writes", n)
	}
	select {
	case <-otx.sent:
	default:
		t.Fatal("sent not closed by the hand-over")
	}
	_ = otx.Respond(res) // a retransmission T1 later
	if n := tx.count(); n != 2 {
		t.Fatalf("the retransmission was not written: %d writes, want 2", n)
	}
}

// TestAckWaitsForTheHandOver: a caller's ACK (or BYE) that comes back before WriteResponse
// has taken our 200 over waits for it: read earlier, sipgo's ReadAck was overwritten by the
// established state, and WriteResponse retransmitted the 200 for 32 s.
func TestAckWaitsForTheHandOver(t *testing.T) {
	tx := &countingTx{}
	otx := newAfterOK(tx)
	res := okResponse()
	if err := otx.writeFirst(res); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	ack := otx.afterSent(func(*sip.Request, sip.ServerTransaction) error {
		close(read)
		return nil
	})
	returned := make(chan struct{})
	go func() { defer close(returned); _ = ack(nil, nil) }()
	select {
	case <-read:
		t.Fatal("the ACK was read before the dialog took the 200 over")
	case <-time.After(50 * time.Millisecond): // long enough for a goroutine that does not wait to have run
	}
	_ = otx.Respond(res)
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the ACK was still held after the hand-over")
	}
	<-returned
}

// TestAckIsNotHeldWithoutWriteFirst: a dialog that wrote its 2xx itself (or none yet) holds
// nothing back.
func TestAckIsNotHeldWithoutWriteFirst(t *testing.T) {
	otx := newAfterOK(&countingTx{})
	read := false
	ack := otx.afterSent(func(*sip.Request, sip.ServerTransaction) error {
		read = true
		return nil
	})
	done := make(chan struct{})
	go func() { defer close(done); _ = ack(nil, nil) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("an ACK was held though writeFirst never ran")
	}
	if !read {
		t.Fatal("the ACK was not read")
	}
}

// TestAckDuringTheFirstWriteWaits: an ACK read while our 200 is still being written (the
// answering goroutine slow back from sendto, the ACK's on the other CPU) waits for the
// hand-over too: the gate was armed only after the write, and the ACK slipped past it.
func TestAckDuringTheFirstWriteWaits(t *testing.T) {
	tx := &countingTx{hold: make(chan struct{})}
	otx := newAfterOK(tx)
	res := okResponse()
	wrote := make(chan error, 1)
	go func() { wrote <- otx.writeFirst(res) }()
	read := make(chan struct{})
	ack := otx.afterSent(func(*sip.Request, sip.ServerTransaction) error {
		close(read)
		return nil
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) { // until writeFirst is inside the write
		otx.mu.Lock()
		early := otx.early
		otx.mu.Unlock()
		if early {
			break
		}
		if time.Now().After(deadline) {
			close(tx.hold)
			t.Fatal("writeFirst did not arm the gate before writing the 200")
		}
	}
	go func() { _ = ack(nil, nil) }()
	close(tx.hold) // the write ends
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	select {
	case <-read:
		t.Fatal("the ACK was read before the dialog took the 200 over")
	case <-time.After(50 * time.Millisecond):
	}
	_ = otx.Respond(res) // the hand-over
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the ACK was still held after the hand-over")
	}
}

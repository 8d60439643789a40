package nat

import (
	"testing"

	"github.com/pion/stun/v3"
)

// FuzzParseBindingResponse feeds arbitrary datagrams, as a hostile network would send them to
// an RTP or SIP socket, to the answer parser: it must never panic and never accept an answer
// to another transaction.
func FuzzParseBindingResponse(f *testing.F) {
	var tid [stun.TransactionIDSize]byte
	copy(tid[:], "dialtone-tid")
	ok, _ := stun.Build(stun.NewTransactionIDSetter(tid), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: []byte{198, 51, 100, 1}, Port: 4000}, stun.Fingerprint)
	f.Add(ok.Raw)
	f.Add([]byte{0x80, 0, 0, 1})
	f.Add(Indication())
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseBindingResponse(b, tid)
		if err != nil {
			return
		}
		if !got.IsValid() || got.Port() == 0 {
			t.Fatalf("accepted an invalid mapped address %v", got)
		}
		m := &stun.Message{Raw: append([]byte(nil), b...)}
		if m.Decode() != nil || m.TransactionID != tid {
			t.Fatal("accepted a message that is not an answer to our transaction")
		}
	})
}

package peers

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBaresipTransports: a plain call over TCP through Kamailio, and a
// direct TLS call to an unregistered baresip's TLS listener (which presents
// CertFile()).
func TestBaresipTransports(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	t.Run("tcp-kamailio", func(t *testing.T) {
		k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}})
		alice := StartBaresip(t, BaresipOptions{User: "alice", Password: "alicepw", Registrar: k.HostPort("tcp"), Transport: "tcp", AutoAnswer: true, ToneHz: 700})
		bob := StartBaresip(t, BaresipOptions{User: "bob", Password: "bobpw", Registrar: k.HostPort("tcp"), Transport: "tcp", ToneHz: 1300})
		bsCall(t, bob, alice, "sip:alice@127.0.0.1", 2*time.Second)
		checkTransport(t, "alice", alice, "TCP")
		checkRecording(t, "alice", onlyRecording(t, "alice", alice), 1300, 700)
	})
	t.Run("tls-direct", func(t *testing.T) {
		carol := StartBaresip(t, BaresipOptions{User: "carol", Transport: "tls", MediaEnc: "srtp-mand", AutoAnswer: true, ToneHz: 500})
		dave := StartBaresip(t, BaresipOptions{User: "dave", Transport: "tls", MediaEnc: "srtp-mand", ToneHz: 900})
		if want := ":" + strconv.Itoa(carol.SIPPort()+1) + ";transport=tls"; !strings.HasSuffix(carol.AOR(), want) {
			t.Errorf("carol's AOR %s does not end in %s", carol.AOR(), want)
		}
		bsCall(t, dave, carol, carol.AOR(), 2*time.Second)
		checkTransport(t, "carol", carol, "TLS")
		wantMenc(t, "carol", carol)
		checkRecording(t, "dave", onlyRecording(t, "dave", dave), 500, 900)
	})
}

// checkTransport checks that every SIP message in b's trace went over tp.
func checkTransport(t *testing.T, who string, b *Baresip, tp string) {
	t.Helper()
	msgs := b.SIPTrace()
	if len(msgs) == 0 {
		t.Fatalf("%s: empty SIP trace", who)
	}
	for _, m := range msgs {
		if m.Transport != tp {
			t.Errorf("%s: %s over %s, want %s", who, m.FirstLine(), m.Transport, tp)
		}
	}
}

// TestBaresipTLSServerNotVerified records that baresip 1.0 (with libre
// 1.1) does not check the registrar's certificate: it registers over TLS
// although sip_cafile holds an unrelated CA. Interop tests therefore cannot
// use baresip to prove that a TLS server's certificate is right; the harness
// still gives it the right CA (CAFile) so that a baresip that does verify
// keeps working.
func TestBaresipTLSServerNotVerified(t *testing.T) {
	if testing.Short() {
		t.Skip("interop test")
	}
	k := StartKamailio(t, KamailioOptions{Users: map[string]string{"alice": "alicepw"}})
	other := filepath.Join(t.TempDir(), "other.pem")
	if err := writeSelfSignedCert(other, other+".key"); err != nil {
		t.Fatal(err)
	}
	// StartBaresip fails the test if the registration fails.
	alice := StartBaresip(t, BaresipOptions{User: "alice", Password: "alicepw", Registrar: k.HostPort("tls"), Transport: "tls", CAFile: other})
	if cs, err := k.Contacts("sip:alice@127.0.0.1"); err != nil || len(cs) != 1 {
		t.Fatalf("alice's contacts %v %v", cs, err)
	}
	checkTransport(t, "alice", alice, "TLS")
}

package diag

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/phone"
)

type testPKI struct {
	ca   *x509.Certificate
	leaf *x509.Certificate
}

// newPKI makes a CA and a server certificate for names, valid from notBefore to notAfter.
func newPKI(t *testing.T, names []string, notBefore, notAfter time.Time) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Provider CA"},
		NotBefore: notBefore.Add(-time.Hour), NotAfter: notAfter.Add(365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip, err := netip.ParseAddr(n); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return testPKI{ca: ca, leaf: leaf}
}

func tlsProbe(p testPKI) []targetProbe {
	st := &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{p.leaf}}
	return []targetProbe{{Target{Transport: phone.TLS, Addr: ap("198.51.100.7:5061")}, probe{TLS: st, Code: 200}}}
}

func TestCheckTLSVerdicts(t *testing.T) {
	t0 := time.Now()
	good := newPKI(t, []string{"sip.example.com", "198.51.100.7"}, t0.Add(-24*time.Hour), t0.Add(90*24*time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(good.ca)
	trusting := &tls.Config{RootCAs: pool}
	tlsAcc := phone.Account{Name: "a", AOR: "sip:alice@example.com", Transport: phone.TLS}
	udpAcc := tlsAcc
	udpAcc.Transport = phone.UDP

	cases := []struct {
		name    string
		in      Input
		host    string
		pki     testPKI
		at      time.Time
		status  Status
		failure phone.Failure
		want    []string
	}{
		{"trusted via tls_ca", Input{Account: tlsAcc, Config: phone.Config{TLS: trusting}, TLSCAFile: "ca.pem"}, "sip.example.com", good, t0, OK, 0, nil},
		{"trusted, IP name", Input{Account: tlsAcc, Config: phone.Config{TLS: trusting}}, "198.51.100.7", good, t0, OK, 0, nil},
		{"unknown CA", Input{Account: tlsAcc, Config: phone.Config{TLS: &tls.Config{RootCAs: x509.NewCertPool()}}}, "sip.example.com", good, t0, Fail, phone.FailureNetwork,
			[]string{"not trusted", "unknown authority", "Test Provider CA", "--tls-ca FILE", "tls_ca"}},
		{"unknown CA, account on UDP", Input{Account: udpAcc, Config: phone.Config{TLS: &tls.Config{RootCAs: x509.NewCertPool()}}}, "sip.example.com", good, t0, Warn, 0, []string{"only if you switch to TLS"}},
		{"unknown CA, insecure", Input{Account: tlsAcc, Config: phone.Config{TLS: &tls.Config{RootCAs: x509.NewCertPool(), InsecureSkipVerify: true}}}, "sip.example.com", good, t0, Warn, 0, []string{"tls_insecure"}},
		{"wrong name", Input{Account: tlsAcc, Config: phone.Config{TLS: trusting}}, "other.example.net", good, t0, Fail, phone.FailureNetwork, []string{"sip.example.com", "not for other.example.net"}},
		{"expired", Input{Account: tlsAcc, Config: phone.Config{TLS: trusting}}, "sip.example.com", good, t0.Add(100 * 24 * time.Hour), Fail, phone.FailureNetwork, []string{"outside its validity", "clock"}},
		{"expires soon", Input{Account: tlsAcc, Config: phone.Config{TLS: trusting}}, "sip.example.com", good, t0.Add(85 * 24 * time.Hour), Warn, 0, []string{"expires in"}},
	}
	defer func() { now = time.Now }()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now = func() time.Time { return tc.at }
			c := checkTLS(&tc.in, tc.host, tlsProbe(tc.pki))
			if c.Status != tc.status || (tc.status == Fail && c.Failure != tc.failure) {
				t.Fatalf("status %v failure %v, want %v %v: %s / %s", c.Status, c.Failure, tc.status, tc.failure, c.Verdict, c.Fix)
			}
			for _, w := range tc.want {
				if !strings.Contains(c.Verdict+" "+c.Fix, w) {
					t.Errorf("verdict %q / fix %q lacks %q", c.Verdict, c.Fix, w)
				}
			}
			var chain []map[string]any
			for _, f := range c.Facts {
				if f.Key == "chain" {
					chain, _ = f.Value.([]map[string]any)
				}
			}
			if len(chain) != 1 || chain[0]["issuer"] != "CN=Test Provider CA" || chain[0]["not_after"] == "" {
				t.Errorf("chain facts %v", chain)
			}
		})
	}
}

func TestCheckTLSWithoutHandshake(t *testing.T) {
	acc := phone.Account{Name: "a", AOR: "sip:alice@example.com", Transport: phone.TLS}
	c := checkTLS(&Input{Account: acc}, "example.com", []targetProbe{{Target{Transport: phone.TLS, Addr: ap("198.51.100.7:5061")}, probe{Err: errNoAnswer}}})
	if c.Status != Fail || c.Failure != phone.FailureNetwork || !strings.Contains(c.Verdict, "no TLS handshake") {
		t.Fatalf("%v %v %q", c.Status, c.Failure, c.Verdict)
	}
	acc.Transport = phone.UDP
	if c := checkTLS(&Input{Account: acc}, "example.com", nil); c.Status != Skipped {
		t.Fatalf("UDP account without TLS server: %v", c.Status)
	}
}

// TestCheckTLSAcceptsTheSRVTargetsName: a certificate that names the SRV target, not the
// domain (many providers'), passes, as the phone accepts it; doctor failed it and skipped the
// REGISTER that would have worked.
func TestCheckTLSAcceptsTheSRVTargetsName(t *testing.T) {
	t0 := time.Now()
	pki := newPKI(t, []string{"sip1.voip.example.net"}, t0.Add(-24*time.Hour), t0.Add(90*24*time.Hour))
	pool := x509.NewCertPool()
	pool.AddCert(pki.ca)
	in := Input{Account: phone.Account{Name: "a", AOR: "sip:alice@example.com", Transport: phone.TLS}, Config: phone.Config{TLS: &tls.Config{RootCAs: pool}}}
	ps := tlsProbe(pki)
	ps[0].Name = "sip1.voip.example.net"
	if c := checkTLS(&in, "example.com", ps); c.Status != OK {
		t.Fatalf("a certificate for the SRV target: %v: %s", c.Status, c.Verdict)
	}
	ps[0].Name = "other.example.net" // names neither
	if c := checkTLS(&in, "example.com", ps); c.Status != Fail {
		t.Fatalf("a certificate for neither name: %v", c.Status)
	}
	// For the SRV target, from a CA nobody trusts: the verdict is the CA, not the name.
	ps[0].Name = "sip1.voip.example.net"
	untrusting := in
	untrusting.Config.TLS = &tls.Config{RootCAs: x509.NewCertPool()}
	if c := checkTLS(&untrusting, "example.com", ps); c.Status != Fail || !strings.Contains(c.Verdict, "not trusted") {
		t.Fatalf("the SRV target's certificate from an unknown CA: %v %q", c.Status, c.Verdict)
	}
}

package interop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/interop/peers"
)

// nameCert writes a self-signed CA certificate for the DNS names (and no IP address) with its
// key, in PEM.
func nameCert(t *testing.T, certFile, keyFile string, names ...string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"dialtone provider test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A real TLS provider's certificate names its domain and its servers' host names, never the
// IP address DNS happens to give. The TLS example registers against Kamailio presenting such a
// certificate (example.org and sip.example.org, no IP address): dialtone must check the
// certificate against the name it was configured with, not against 127.0.0.1.
func TestProviderTLSCertificateNamesTheDomain(t *testing.T) {
	t.Parallel()
	const password = "example-secret"
	k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{"alice": password}, Domain: "example.org"})
	// Kamailio's TLS config names these two files; tls.reload makes it present the new pair.
	nameCert(t, k.CAFile(), filepath.Join(k.Dir(), "key.pem"), "example.org", "sip.example.org")
	kamcmd, err := exec.LookPath("kamcmd")
	if err != nil {
		kamcmd = "/usr/sbin/kamcmd"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kamcmd, "-s", "unix:"+filepath.Join(k.Dir(), "kamailio_ctl"), "tls.reload").CombinedOutput()
	if err != nil || strings.HasPrefix(string(out), "error") {
		t.Fatalf("kamcmd tls.reload: %v: %s", err, out)
	}
	d := peers.StartDnsmasq(t, srvFor("example.org", k))

	ex := findExample(t, providerExamples(t), "TLS, located by SRV")
	text := runnableExample(ex, nil, fmt.Sprintf("dns_server = %q", d.Addr()), fmt.Sprintf("tls_ca = %q", k.CAFile()))
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_EXAMPLE_PASSWORD=" + password},
		"register", "--once", "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d, want 0: a certificate for example.org and sip.example.org must be accepted for sip:alice@example.org\n%s", code, p.transcript())
	}
	if _, ok := findEvent(evs, "registered"); !ok {
		t.Fatalf("no registered event: %v", names(evs))
	}
}

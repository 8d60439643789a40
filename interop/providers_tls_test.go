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

// The TLS example registers by SRV over TLS against Kamailio presenting a certificate for the
// provider's names (example.org and sip.example.org, no IP address): dialtone checks the
// certificate against the name it looked up, not the IP address it dialled. The same setup
// with Kamailio's own certificate (localhost and 127.0.0.1 only) is refused with exit 4.
func TestProviderExampleTLS(t *testing.T) {
	t.Parallel()
	ex := findExample(t, providerExamples(t), "TLS, located by SRV")
	for _, tc := range []struct {
		name      string
		certNames []string // nil: Kamailio's own certificate
		code      int
	}{
		{"certificate_for_the_domain", []string{"example.org", "sip.example.org"}, 0},
		{"certificate_for_another_name", nil, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const password = "example-secret"
			k := peers.StartKamailio(t, peers.KamailioOptions{Users: map[string]string{"alice": password}, Domain: "example.org"})
			if tc.certNames != nil {
				// Kamailio's TLS config names these two files; tls.reload makes it present the new pair.
				nameCert(t, k.CAFile(), filepath.Join(k.Dir(), "key.pem"), tc.certNames...)
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
			}
			d := peers.StartDnsmasq(t, srvFor("example.org", k))
			text := runnableExample(ex, nil, fmt.Sprintf("dns_server = %q", d.Addr()), fmt.Sprintf("tls_ca = %q", k.CAFile()))
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			trace := filepath.Join(dir, "trace.txt")
			code, evs, p := runDialtone(t, 30*time.Second, []string{"DIALTONE_EXAMPLE_PASSWORD=" + password},
				"register", "--once", "--json", "--config", cfg, "--sip-trace", trace)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\ndnsmasq:\n%s", code, tc.code, p.transcript(), d.Log())
			}
			if !strings.Contains(d.Log(), "query[SRV] _sips._tcp.example.org ") {
				t.Errorf("dnsmasq was not asked for SRV _sips._tcp.example.org:\n%s", d.Log())
			}
			if tc.code != 0 {
				f, _ := findEvent(evs, "registration_failed")
				if !strings.Contains(f.str("reason"), "does not match") || f.str("failure") != "network" {
					t.Errorf("want a network failure saying the certificate does not match, got %v", f)
				}
				return
			}
			if _, ok := findEvent(evs, "registered"); !ok {
				t.Fatalf("no registered event: %v", names(evs))
			}
			tr, _ := os.ReadFile(trace)
			for _, want := range []string{"Via: SIP/2.0/TLS", "REGISTER sip:example.org", fmt.Sprintf("-> 127.0.0.1:%d ", k.Port("tls"))} {
				if !strings.Contains(string(tr), want) {
					t.Errorf("the SIP trace lacks %q:\n%s", want, tr)
					break
				}
			}
		})
	}
}

package diag

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/phone"
)

// expirySoon is when a certificate's end is worth a warning.
const expirySoon = 14 * 24 * time.Hour

// now is the clock certificates are judged by (tests move it).
var now = time.Now

// checkTLS judges the chain the TLS targets presented, against the system roots plus
// tls_ca (the roots the phone itself uses: Config.TLS.RootCAs, nil meaning the system's).
func checkTLS(in *Input, host string, ps []targetProbe) *Check {
	c := &Check{Name: "tls", Title: "TLS certificate of " + host}
	mine := in.Account.Transport == phone.TLS
	var p *targetProbe
	for i := range ps {
		if ps[i].TLS != nil {
			p = &ps[i]
			break
		}
	}
	if p == nil {
		switch {
		case !mine:
			c.skip("the account does not use TLS and no TLS server was found")
		case len(ps) == 0:
			c.skip("no TLS target to check (see dns)")
		default:
			what, _ := probeError(ps[0].Err, ps[0].Target)
			c.add("target", ps[0].Addr.String())
			c.add("error", what)
			c.fail(phone.FailureNetwork, "no TLS handshake with "+ps[0].Addr.String()+": "+what,
				"check that the port is the provider's TLS port (usually 5061) and that it speaks TLS")
		}
		return c
	}
	st := p.TLS
	c.add("target", p.Addr.String())
	c.add("version", tlsVersion(st.Version))
	var chain []map[string]any
	for _, cert := range st.PeerCertificates {
		row := map[string]any{
			"subject":    cert.Subject.String(),
			"issuer":     cert.Issuer.String(),
			"not_before": cert.NotBefore.UTC().Format(time.RFC3339),
			"not_after":  cert.NotAfter.UTC().Format(time.RFC3339),
		}
		var names []string
		names = append(names, cert.DNSNames...)
		for _, ip := range cert.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) > 0 {
			row["names"] = names
		}
		chain = append(chain, row)
	}
	c.add("chain", chain)
	if len(st.PeerCertificates) == 0 {
		c.fail(phone.FailureNetwork, "the server presented no certificate", "tell the provider")
		return c
	}
	leaf := st.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, cert := range st.PeerCertificates[1:] {
		inter.AddCert(cert)
	}
	var roots *x509.CertPool
	if in.Config.TLS != nil {
		roots = in.Config.TLS.RootCAs
	}
	rootsName := "system roots"
	if in.TLSCAFile != "" {
		rootsName += " + " + in.TLSCAFile
	}
	c.add("verified_against", rootsName)
	opts := x509.VerifyOptions{DNSName: strings.Trim(host, "[]"), Roots: roots, Intermediates: inter, CurrentTime: now()}
	_, err := leaf.Verify(opts)
	var wrongName x509.HostnameError
	if errors.As(err, &wrongName) && p.Name != "" && !strings.EqualFold(p.Name, opts.DNSName) {
		// The phone takes a certificate for the SRV target's own name too (tlsnames.go), as
		// many providers' name only that one: so does the check.
		opts.DNSName = p.Name
		var wrongToo x509.HostnameError
		switch _, err2 := leaf.Verify(opts); {
		case err2 == nil:
			err = nil
			c.add("verified_name", p.Name+" (the SRV target)")
		case !errors.As(err2, &wrongToo):
			// The name is right for the SRV target; what is wrong is the rest (an unknown CA,
			// a date): say that, as the phone would, not "the certificate is for another name".
			err = err2
		}
	}
	if err != nil {
		c.add("verification", err.Error())
		verdict, fix := tlsVerdict(err, host, leaf, in.TLSCAFile)
		if in.Config.TLS != nil && in.Config.TLS.InsecureSkipVerify {
			c.warn(verdict+"; dialtone accepts it only because of tls_insecure", fix)
			return c
		}
		if mine {
			c.fail(phone.FailureNetwork, verdict, fix)
		} else {
			c.warn(verdict+" (the account uses "+in.Account.Transport.String()+", so this matters only if you switch to TLS)", fix)
		}
		return c
	}
	c.add("verification", "ok")
	if left := leaf.NotAfter.Sub(now()); left < expirySoon {
		c.warn(fmt.Sprintf("the certificate expires in %s (%s)", left.Round(time.Hour), leaf.NotAfter.UTC().Format(time.RFC3339)),
			"tell the provider to renew it")
	}
	return c
}

// tlsVerdict explains a verification error and its fix.
func tlsVerdict(err error, host string, leaf *x509.Certificate, caFile string) (string, string) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		v := fmt.Sprintf("the certificate of %s is not trusted: it is signed by an unknown authority (%s)", host, leaf.Issuer.String())
		if caFile != "" {
			v += ", which is not in " + caFile + " either"
		}
		return v, "get the provider's CA certificate (PEM) and trust it with --tls-ca FILE or tls_ca = \"FILE\" in [sip]"
	case errors.As(err, &hostname):
		names := append([]string(nil), leaf.DNSNames...)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		if _, ipErr := netip.ParseAddr(host); ipErr == nil && len(leaf.DNSNames) > 0 {
			return fmt.Sprintf("the certificate is for %s, not for the address %s", strings.Join(names, ", "), host),
				"use the certificate's name in registrar/outbound_proxy (e.g. sip:" + leaf.DNSNames[0] + ") instead of the IP address"
		}
		return fmt.Sprintf("the certificate is for %s, not for %s", strings.Join(names, ", "), host),
			"use the name the certificate is for in registrar/outbound_proxy, or ask the provider for a matching certificate"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("the certificate is outside its validity (%s to %s; now %s)",
				leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), now().UTC().Format(time.RFC3339)),
			"if your clock is right, the provider must renew the certificate; else fix the clock"
	}
	return "the certificate was not accepted: " + err.Error(), "tell the provider, with this report"
}

func tlsVersion(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	}
	return fmt.Sprintf("0x%04x", v)
}

package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Media, codec and transport settings of BaresipOptions (MediaEnc, Codecs,
// SampleRate, Transport, CAFile): validation and what they add to the
// generated config and accounts files.

// baresipMediaEncs are the mediaenc values of baresip 1.0's srtp module
// (SDES keys in a=crypto, one line, AES_CM_128_HMAC_SHA1_80):
//   - "srtp": best effort. The offer is RTP/AVP with a=crypto; an answer
//     without a=crypto leaves the call in plain RTP. As answerer it takes
//     RTP/AVP, RTP/AVPF, RTP/SAVP and RTP/SAVPF offers and answers with the
//     offer's profile, with a=crypto when the offer had one.
//   - "srtp-mand": the offer is RTP/SAVP with a=crypto; as answerer it only
//     takes RTP/SAVP offers.
//   - "srtp-mandf": the same with RTP/SAVPF.
var baresipMediaEncs = []string{"srtp", "srtp-mand", "srtp-mandf"}

// baresipCodecModules maps a lower-case codec name (as in audio_codecs, the
// part before any "/") to the module providing it.
var baresipCodecModules = map[string]string{
	"pcmu": "g711.so",
	"pcma": "g711.so",
	"g722": "g722.so",
	"opus": "opus.so",
}

// baresipCodecSpecs completes a bare codec name for audio_codecs. Baresip
// 1.0 reads a name without rate as name/8000/1 and matches it against the
// codecs' internal rate and channels, so "G722" alone is "not found" (G.722
// registers as G722/16000/1 although its SDP clock is 8000) and a list
// with no codec found silently offers every loaded codec. Opus registers as
// opus/48000/1 with opus_stereo no (its SDP still says opus/48000/2, as RFC
// 7587 wants).
var baresipCodecSpecs = map[string]string{
	"pcmu": "PCMU/8000/1",
	"pcma": "PCMA/8000/1",
	"g722": "G722/16000/1",
	"opus": "opus/48000/1",
}

// checkMedia validates and normalises the media options; it returns the
// extra modules (beyond baresipModules) the config must load.
func (o *BaresipOptions) checkMedia() (modules []string, err error) {
	if o.MediaEnc != "" {
		if !slices.Contains(baresipMediaEncs, o.MediaEnc) {
			return nil, fmt.Errorf("baresip MediaEnc %q: want one of %s", o.MediaEnc, strings.Join(baresipMediaEncs, ", "))
		}
		modules = append(modules, "srtp.so")
	}
	for _, c := range o.Codecs {
		name, _, _ := strings.Cut(c, "/")
		m, ok := baresipCodecModules[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("baresip codec %q: want PCMU, PCMA, G722 or opus (optionally with /rate/channels)", c)
		}
		if strings.ContainsAny(c, ";\"<>,@ \t\r\n\\") {
			return nil, fmt.Errorf("baresip codec %q contains characters the accounts file cannot carry", c)
		}
		if !slices.Contains(modules, m) && m != "g711.so" {
			modules = append(modules, m)
		}
	}
	switch o.SampleRate {
	case 0:
		o.SampleRate = baresipRate
		if len(o.Codecs) > 0 {
			o.SampleRate = baresipCodecRate(o.Codecs[0])
		}
	case 8000, 16000, 32000, 48000:
	default:
		return nil, fmt.Errorf("baresip SampleRate %d: want 8000, 16000, 32000 or 48000", o.SampleRate)
	}
	switch strings.ToLower(o.Transport) {
	case "", "udp":
		o.Transport = "udp"
	case "tcp", "tls":
		o.Transport = strings.ToLower(o.Transport)
	default:
		return nil, fmt.Errorf("baresip Transport %q: want udp, tcp or tls", o.Transport)
	}
	if o.Transport == "tls" && o.Registrar != "" && o.CAFile == "" {
		return nil, fmt.Errorf("baresip Transport tls with Registrar %s needs CAFile (e.g. Kamailio's CAFile())", o.Registrar)
	}
	return modules, nil
}

// baresipCodecRate is the audio rate of codec (as in Codecs): 16000 for
// G.722, 48000 for Opus, 8000 otherwise.
func baresipCodecRate(codec string) int {
	name, _, _ := strings.Cut(strings.ToLower(codec), "/")
	switch name {
	case "g722":
		return 16000
	case "opus":
		return 48000
	}
	return baresipRate
}

// accountMediaParams renders the accounts-line parameters for the media
// options (each with a leading ';').
func (o *BaresipOptions) accountMediaParams() string {
	var sb strings.Builder
	if o.MediaEnc != "" {
		sb.WriteString(";mediaenc=" + o.MediaEnc)
	}
	if o.Ptime > 0 {
		fmt.Fprintf(&sb, ";ptime=%d", o.Ptime)
	}
	if len(o.Codecs) > 0 {
		specs := make([]string, len(o.Codecs))
		for i, c := range o.Codecs {
			specs[i] = c
			if full, ok := baresipCodecSpecs[strings.ToLower(c)]; ok {
				specs[i] = full
			}
		}
		sb.WriteString(";audio_codecs=" + strings.Join(specs, ","))
	}
	return sb.String()
}

// transportParam is the URI parameter selecting the SIP transport ("" for
// UDP, baresip's default).
func (o *BaresipOptions) transportParam() string {
	if o.Transport == "udp" {
		return ""
	}
	return ";transport=" + o.Transport
}

// mediaConfig renders the config lines for the media options: extra
// modules, the opus encoder settings and the TLS files.
func (b *Baresip) mediaConfig(modules []string) string {
	var sb strings.Builder
	sb.WriteString("\n# media options (interop/peers BaresipOptions)\n")
	for _, m := range modules {
		fmt.Fprintf(&sb, "module\t\t\t%s\n", m)
	}
	// Opus: mono both ways (stereo=0;sprop-stereo=0 in the fmtp), the voip
	// application (speech-tuned), 48 kHz. Without these baresip 1.0 offers
	// stereo=1;sprop-stereo=1 and sends stereo when the far end allows it.
	sb.WriteString("opus_stereo\t\tno\nopus_sprop_stereo\tno\nopus_application\tvoip\nopus_samplerate\t\t48000\n")
	if b.opts.Transport == "tls" {
		// sip_certificate (certificate and key in one PEM) is what
		// baresip's TLS listener (SIP port + 1) presents; sip_cafile
		// replaces the system CA bundle as the roots the registrar's
		// certificate is checked against.
		fmt.Fprintf(&sb, "sip_certificate\t\t%s\n", b.certFile)
		if b.opts.CAFile != "" {
			fmt.Fprintf(&sb, "sip_cafile\t\t%s\n", b.opts.CAFile)
		}
	}
	return sb.String()
}

// writeTLSCert writes the certificate baresip presents on its TLS
// listener: self-signed (CA:TRUE, SAN 127.0.0.1 and localhost), with the
// key appended, as baresip's sip_certificate wants it.
func (b *Baresip) writeTLSCert() error {
	b.certFile = filepath.Join(b.dir, "cert.pem")
	keyFile := filepath.Join(b.dir, "key.pem")
	if err := writeSelfSignedCert(b.certFile, keyFile); err != nil {
		return fmt.Errorf("baresip TLS certificate: %w", err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(b.certFile, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CertFile is the PEM file (certificate followed by its key) that baresip's
// TLS listener presents; "" unless Transport is "tls". The certificate is
// self-signed and a CA, so it can be used as the trust root of a client that
// connects to baresip over TLS (its SANs are 127.0.0.1 and localhost).
func (b *Baresip) CertFile() string { return b.certFile }

// SampleRate is the rate of baresip's microphone tone (ausrc_srate).
func (b *Baresip) SampleRate() int { return b.opts.SampleRate }

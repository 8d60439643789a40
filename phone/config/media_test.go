package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestMediaKeys(t *testing.T) {
	const head = "[[account]]\nname = \"a\"\naor = \"sip:a@example.com\"\n"
	good := []struct {
		toml      string
		codecs    []string
		policy    string
		transport string
		ptime     int
	}{
		{"", nil, "", "udp", 0},
		{"codecs = [\"pcma\", \"g722\"]\n", []string{"PCMA", "G722"}, "", "udp", 0},
		{"media_encryption = \"SDES-Required\"\n", nil, "sdes-required", "udp", 0},
		{"media_encryption = \"none\"\ntransport = \"tls\"\n", nil, "none", "tls", 0},
		{"ptime = 30\n", nil, "", "udp", 30},
	}
	for _, c := range good {
		f, err := Decode(testPath, []byte(head+c.toml))
		if err != nil {
			t.Fatalf("%q: %v", c.toml, err)
		}
		a := f.Accounts[0]
		if !reflect.DeepEqual(a.Codecs, c.codecs) || a.MediaEncryption != c.policy || a.Transport != c.transport || a.Ptime != c.ptime {
			t.Errorf("%q: codecs %q policy %q transport %q ptime %d, want %q %q %q %d", c.toml, a.Codecs, a.MediaEncryption, a.Transport, a.Ptime,
				c.codecs, c.policy, c.transport, c.ptime)
		}
	}
	bad := map[string]string{
		"codecs = [\"G729\"]\n":               `codecs: unknown codec "G729"`,
		"codecs = [\"PCMU\", \"pcmu\"]\n":     `"pcmu" is listed twice`,
		"codecs = []\n":                       "codecs: is empty",
		"media_encryption = \"zrtp\"\n":       `media_encryption: "zrtp" is not one of none, sdes, sdes-required`,
		"media_encryption = \"sdes \"\nx=1\n": "unknown key",
		"ptime = 25\n":                        "ptime: ptime 25 ms: want 10, 20, 30, 40, 50 or 60",
		"ptime = 90\n":                        "ptime: ptime 90 ms",
	}
	for toml, want := range bad {
		_, err := Decode(testPath, []byte(head+toml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", toml, err, want)
		}
	}
}

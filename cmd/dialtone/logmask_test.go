package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/phone/srtp"
)

// TestLogsMaskSRTPKeys: a record carrying an SRTP key (sipgo logs a message it cannot parse
// whole, "data" at Error level) reaches the log with the key masked: in the message, a string,
// an error, bytes, a group, and attributes given With.
func TestLogsMaskSRTPKeys(t *testing.T) {
	c, err := srtp.NewCrypto(1, srtp.AESCM128HMACSHA180)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimPrefix(strings.Fields(c.String())[2], "inline:")
	line := "a=crypto:" + c.String()
	var out bytes.Buffer
	log := slog.New(masked(slog.NewTextHandler(&out, nil)))
	log.With("sdp", line).Error("failed to parse "+line, "data", line, "err", errors.New(line),
		"raw", []byte(line), slog.Group("g", "x", line))
	if got := out.String(); strings.Contains(got, key) || !strings.Contains(got, srtp.KeyMask) {
		t.Fatalf("the log holds the key or no mask:\n%s", got)
	}
}

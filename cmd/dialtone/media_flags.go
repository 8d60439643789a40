package main

import (
	"strings"

	"github.com/dialtone/dialtone/phone/config"
	"github.com/dialtone/dialtone/phone/sdp"
)

// codecsFlag is --codecs as the codec package names them (repeats dropped), nil when the flag
// is not given. It overrides every account's codecs, as --media-encryption does their policy.
func (e *env) codecsFlag() ([]string, error) {
	if e.cli.Codecs == "" {
		return nil, nil
	}
	names := strings.Split(e.cli.Codecs, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	list, _, err := config.CanonicalCodecs(names)
	if err != nil {
		return nil, usageErr("--codecs: %v", err)
	}
	return list, nil
}

// ptimeFlag is --ptime checked (0 when not given). It overrides every account's ptime.
func (e *env) ptimeFlag() (int, error) {
	if e.cli.Ptime == 0 {
		return 0, nil
	}
	if err := sdp.CheckPtime(e.cli.Ptime); err != nil {
		return 0, usageErr("--ptime: %v", err)
	}
	return e.cli.Ptime, nil
}

package main

import (
	"strings"

	"github.com/dialtone/dialtone/phone/config"
)

// applyMediaFlags lets --codecs and --media-encryption override an account's (or, for calls
// without an account, the phone's) codec preference and SRTP policy.
func (e *env) applyMediaFlags(codecs *[]string, policy *string) error {
	if e.cli.Codecs != "" {
		var list []string
		seen := map[string]bool{}
		for _, name := range strings.Split(e.cli.Codecs, ",") {
			c, err := config.CodecByName(strings.TrimSpace(name))
			if err != nil {
				return usageErr("--codecs: %v", err)
			}
			if !seen[c.Name()] {
				list = append(list, c.Name())
				seen[c.Name()] = true
			}
		}
		*codecs = list
	}
	if e.cli.MediaEncryption != "" {
		*policy = e.cli.MediaEncryption
	}
	return nil
}

//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package config

import "context"

// probeKeyring has nothing to check up front where the keyring is not
// reached over D-Bus (macOS Keychain, Windows Credential Manager): errors
// come from the operation itself, bounded by keyringDo.
func probeKeyring(context.Context) error { return nil }

package store

import "github.com/dialtone/dialtone/phone/sipaddr"

// NormalizePeer is the form peers are stored and looked up in: see sipaddr.Normalize.
func NormalizePeer(uri string) string { return sipaddr.Normalize(uri) }

package common

import "github.com/dialtone/dialtone/phone/sipaddr"

// PeerKey is the form conversations and calls are matched by: the same normalisation the
// history store applies to the peers it keeps, so a peer from a live event and the same peer
// read back from History compare equal (see sipaddr.Normalize).
func PeerKey(uri string) string { return sipaddr.Normalize(uri) }

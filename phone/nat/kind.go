package nat

import "net/netip"

// Kind is what two observations of one socket's public address say about the network.
type Kind int

const (
	Unknown   Kind = iota // fewer than two observations
	Open                  // the public address is the local one: no NAT
	Cone                  // one mapping whatever the destination (endpoint-independent): the STUN address works for everyone
	Symmetric             // a new mapping per destination: only a relay, or a far end that latches, can reach us
)

var kindNames = [...]string{"unknown", "open", "cone", "symmetric"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// Classify compares the mappings of one local socket seen by two different destinations.
// Invalid mappings count as not observed.
func Classify(local, first, second netip.AddrPort) Kind {
	switch {
	case !first.IsValid() && !second.IsValid():
		return Unknown
	case first.IsValid() && second.IsValid() && first != second:
		return Symmetric
	}
	seen := first
	if !seen.IsValid() {
		seen = second
	}
	if local.IsValid() && seen == local {
		return Open
	}
	if !first.IsValid() || !second.IsValid() {
		return Unknown
	}
	return Cone
}

package peers

import "github.com/dialtone/dialtone/interop/netlab"

// A *netlab.Host is what the peers' Host options are meant to hold.
var _ nsHost = (*netlab.Host)(nil)

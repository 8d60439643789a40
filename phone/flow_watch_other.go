//go:build !linux

package phone

// canWatchFlows: elsewhere the keeper looks at its connection every flowPoll.
const canWatchFlows = false

//go:build race

package media

// srtpRaceEnabled: the race detector's instrumentation makes pion's HMAC path allocate, so
// TestSRTPSeamAllocs only holds without it (make test; make test-race skips it).
const srtpRaceEnabled = true

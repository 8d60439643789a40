//go:build race

package srtp

// raceEnabled: the race detector's instrumentation makes pion's HMAC path allocate, so the
// allocation tests only hold without it (make test; make test-race skips them).
const raceEnabled = true

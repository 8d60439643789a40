//go:build !race

package srtp

// raceEnabled: see race_on_test.go.
const raceEnabled = false

//go:build !race

package media

// srtpRaceEnabled: see srtp_race_on_test.go.
const srtpRaceEnabled = false

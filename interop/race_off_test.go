//go:build !race

package interop

// raceEnabled: this test binary was built with -race, so TestMain builds dialtone with it too.
const raceEnabled = false

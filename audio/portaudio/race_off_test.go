//go:build cgo && !noportaudio && !race

package portaudio

const checkptrBreaksStreams = false // see race_on_test.go

func checkptrOff() bool { return true }

//go:build !cgo || noopus

package codec

// Opus needs libopus through cgo (opus_cgo.go). This build has neither, so Opus is nil and
// the registry's opusCodec slot stays empty: All offers G.711 (and G.722) only, and ByName
// finds no "opus".
var Opus Codec

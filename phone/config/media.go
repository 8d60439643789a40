package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/codec"
	"github.com/dialtone/dialtone/phone/sdp"
)

// validateMedia checks codecs, ptime and media_encryption, writing each codec as the codec package
// names it, so later stages compare names exactly.
func (a *Account) validateMedia() error {
	if a.Codecs != nil {
		list, dup, err := CanonicalCodecs(a.Codecs)
		if err != nil {
			return &Error{Key: "codecs", Msg: err.Error()}
		}
		if dup != "" {
			return &Error{Key: "codecs", Msg: fmt.Sprintf("%q is listed twice", dup)}
		}
		a.Codecs = list
	}
	if a.Codecs != nil && len(a.Codecs) == 0 {
		return &Error{Key: "codecs", Msg: "is empty: name at least one codec, or leave the key out for all"}
	}
	if a.Ptime != 0 {
		if err := sdp.CheckPtime(a.Ptime); err != nil {
			return &Error{Key: "ptime", Msg: err.Error()}
		}
	}
	e, err := ParseEncryption(a.MediaEncryption)
	if err != nil {
		return &Error{Key: "media_encryption", Msg: err.Error()}
	}
	a.MediaEncryption = e
	return nil
}

// CanonicalCodecs writes each of names as the codec package
// names it, in order, without repeats; dup is the first name that repeats an earlier one (the
// config file refuses it, --codecs ignores it). An unknown name is an error.
func CanonicalCodecs(names []string) (list []string, dup string, err error) {
	list = make([]string, 0, len(names))
	for _, name := range names {
		c, err := CodecByName(name)
		if err != nil {
			return nil, "", err
		}
		if slices.Contains(list, c.Name()) {
			if dup == "" {
				dup = name
			}
			continue
		}
		list = append(list, c.Name())
	}
	return list, dup, nil
}

// CodecByName finds a codec this build has by its name, case-insensitively, with an error that
// lists the choices (and says why Opus may be missing).
func CodecByName(name string) (codec.Codec, error) {
	if c, ok := codec.ByName(name); ok {
		return c, nil
	}
	var names []string
	for _, c := range codec.All() {
		names = append(names, c.Name())
	}
	msg := fmt.Sprintf("unknown codec %q; this dialtone has %s", name, strings.Join(names, ", "))
	if strings.EqualFold(name, "opus") {
		msg = fmt.Sprintf("opus is not built into this dialtone (it needs cgo and libopus); it has %s", strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%s", msg)
}

// ParseEncryption checks a media_encryption value (sdp's policy names, any case) and writes it
// as sdp names it; "" stays "" (the transport decides).
func ParseEncryption(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	e, err := sdp.ParseEncryption(s)
	if err != nil {
		return "", fmt.Errorf("%q is not one of none, sdes, sdes-required", s)
	}
	return e.String(), nil
}

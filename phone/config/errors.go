package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Error is a decoding or validation error. File, Line, Column and Key are
// filled in when known: an Account built in code has no file or line, and a
// TOML syntax error may have no key.
type Error struct {
	File   string
	Line   int // 1-based; 0 if unknown
	Column int // 1-based byte column; 0 if unknown
	Key    string
	Msg    string
	Err    error // underlying error, if any
}

// Error formats as "FILE:LINE:COL: KEY: MSG", leaving out the unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// tomlError turns go-toml's errors into an *Error that names the file, the
// position and (from our own key index) the key with its array index.
func tomlError(path string, data []byte, keys *keyIndex, err error) *Error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		// Report the first one: fixing one at a time is fine for a
		// hand-edited file, and the message stays one line.
		de := &strict.Errors[0]
		e := positioned(path, data, keys, de)
		if strings.Contains(de.Error(), "missing table") {
			e.Msg = "unknown table"
		} else {
			e.Msg = "unknown key"
		}
		if n := len(strict.Errors) - 1; n > 0 {
			e.Msg += fmt.Sprintf(" (and %d more unknown)", n)
		}
		e.Err = err
		return e
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		e := positioned(path, data, keys, de)
		e.Msg = typeMessage(e.Key, strings.TrimPrefix(de.Error(), "toml: "))
		e.Err = err
		return e
	}
	return &Error{File: path, Msg: err.Error(), Err: err}
}

// positioned builds an *Error at de's position. The key comes from our index
// (it knows "account[1].foo"); go-toml's own key path lacks array indexes and
// is only a fallback.
func positioned(path string, data []byte, keys *keyIndex, de *toml.DecodeError) *Error {
	line, col := de.Position()
	e := &Error{File: path, Line: line, Column: col}
	if k := keys.at(offsetOf(data, line, col)); k != nil {
		e.Key = k.path
		// Point at the key rather than into its value: that is where
		// the user looks.
		e.Line, e.Column = k.line, k.col
	} else {
		e.Key = strings.Join(de.Key(), ".")
	}
	return e
}

var cannotDecode = regexp.MustCompile(`^cannot decode TOML (.+?) into `)

// typeMessage rewrites go-toml's "cannot decode TOML string into struct field
// config.Account.Expires of type int" into words about the config file, since
// Go type names mean nothing to a user.
func typeMessage(key, msg string) string {
	m := cannotDecode.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := expectedType(key)
	if want == "" {
		return "wrong type: got " + article(m[1])
	}
	return "must be " + want + ", not " + article(m[1])
}

// expectedType returns the TOML type the schema wants for key.
func expectedType(key string) string {
	last := key
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		last = key[i+1:]
	}
	if strings.HasSuffix(last, "]") {
		// An array element such as account[0] must be a table.
		return "a table"
	}
	switch last {
	case "expires":
		return "an integer"
	case "register", "tls_insecure":
		return "a boolean (true or false)"
	case "sip", "audio":
		return "a table ([" + last + "])"
	case "account":
		return "an array of tables ([[account]])"
	case "":
		return ""
	}
	if strings.Contains(key, ".") {
		return "a string"
	}
	return ""
}

// article prefixes go-toml's type name ("integer", "inline table", ...)
// with "a" or "an".
func article(tomlType string) string {
	if tomlType != "" && strings.ContainsRune("aeiou", rune(tomlType[0])) {
		return "an " + tomlType
	}
	return "a " + tomlType
}

// offsetOf converts go-toml's 1-based line and byte column to a byte offset
// in data, or -1 if the position is not in data.
func offsetOf(data []byte, line, col int) int {
	if line < 1 || col < 1 {
		return -1
	}
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	off += col - 1
	if off > len(data) {
		return -1
	}
	return off
}

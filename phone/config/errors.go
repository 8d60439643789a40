package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
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
	case "sip", "audio":
		return "a table ([" + last + "])"
	case "account":
		return "an array of tables ([[account]])"
	case "":
		return ""
	}
	// The schema says: the field with that toml name in the key's table (keepalive is an
	// integer, codecs an array, echo_cancellation a boolean). A list by hand had called every
	// key it did not name a string, and "must be a string, not a string" followed.
	section, _, _ := strings.Cut(key, ".")
	section, _, _ = strings.Cut(section, "[")
	var table reflect.Type
	switch section {
	case "sip":
		table = reflect.TypeFor[SIP]()
	case "audio":
		table = reflect.TypeFor[Audio]()
	case "account":
		table = reflect.TypeFor[Account]()
	default:
		return ""
	}
	if f, ok := tomlField(table, last); ok {
		return tomlTypeName(f.Type)
	}
	return ""
}

// tomlField is the field of struct t (or of a struct embedded in it) whose toml name is name.
func tomlField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if g, ok := tomlField(f.Type, name); ok {
				return g, true
			}
			continue
		}
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// tomlTypeName says in TOML's words what a value decoded into a Go type t must be; "" when it
// cannot tell (a type that decodes itself).
func tomlTypeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if e := tomlTypeName(t.Elem()); e != "" {
			return "an array of " + strings.TrimPrefix(strings.TrimPrefix(e, "an "), "a ") + "s"
		}
		return "an array"
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

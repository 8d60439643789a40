package config

import (
	"fmt"
	"reflect"
	"strings"
)

// schema maps a table ("" for the top level) to its keys, read from the
// struct tags so it cannot drift from the types.
var schema = map[string][]string{
	"":        tomlKeys(reflect.TypeFor[File]()),
	"sip":     tomlKeys(reflect.TypeFor[SIP]()),
	"audio":   tomlKeys(reflect.TypeFor[Audio]()),
	"account": tomlKeys(reflect.TypeFor[Account]()),
}

func tomlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct {
			keys = append(keys, tomlKeys(f.Type)...) // go-toml flattens embedded structs
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if t.Field(i).IsExported() && name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// checkKeyCase rejects keys that match the schema only when case is ignored.
// go-toml falls back to case-insensitive field matching, so "Transport" or
// [[Account]] would otherwise be accepted even in strict mode; but TOML keys
// are case-sensitive, and errors and docs use the exact names, so a file
// should too.
func checkKeyCase(path string, idx *keyIndex) *Error {
	if idx == nil {
		return nil
	}
	for _, k := range idx.keys {
		table := ""
		for depth, part := range k.parts {
			keys, ok := schema[table]
			if !ok || depth > 1 {
				break
			}
			exact, folded := "", ""
			for _, want := range keys {
				if want == part {
					exact = want
				} else if strings.EqualFold(want, part) {
					folded = want
				}
			}
			if exact == "" && folded != "" {
				loc := idx.loc(k)
				return &Error{File: path, Line: loc.line, Column: loc.col, Key: k.path,
					Msg: fmt.Sprintf("unknown key; keys are case-sensitive: did you mean %q?", folded)}
			}
			if exact == "" {
				break
			}
			table = exact
		}
	}
	return nil
}

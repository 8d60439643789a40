package main

import (
	"io"
	"reflect"
	"strings"
	"unicode"

	"github.com/alecthomas/kong"
)

// Parsing the command line. kong builds its model of a grammar by reflection over every flag
// of every command (~1.5 ms and 8 000 allocations for commandLine, a tenth of `dialtone
// version`'s whole CPU), though a command line names one command. parseArgs builds the
// global flags and that one command only (a third of the cost); help, and anything the narrow
// model cannot parse, go to the whole model, so what people see (help, errors) is the same.

// parseArgs parses args into c (the global flags) and returns kong's context to run.
// quiet are kong's options for the narrow model (its errors are not shown: the whole model
// parses again and reports them); loud are the whole model's.
func parseArgs(args []string, c *cli, quiet, loud []kong.Option) (*kong.Context, error) {
	if name, ok := commandIn(args); ok {
		if f, found := commandField(name); found {
			var narrow struct{ cli }
			cmd := reflect.New(f.Type).Interface()
			opts := append(quiet, kong.DynamicCommand(name, f.Tag.Get("help"), "", cmd, string(f.Tag)))
			if parser, err := kong.New(&narrow, opts...); err == nil {
				if kctx, err := parser.Parse(args); err == nil {
					*c = narrow.cli
					return kctx, nil
				}
			}
		}
	}
	var whole commandLine
	parser, err := kong.New(&whole, loud...)
	if err != nil {
		return nil, err
	}
	kctx, err := parser.Parse(args)
	*c = whole.cli
	return kctx, err
}

// quietWriters is the narrow model's kong.Writers: stdout as usual (--version prints there),
// errors nowhere.
func quietWriters(stdout io.Writer) kong.Option { return kong.Writers(stdout, io.Discard) }

// commandIn finds the command args name: the first word that is not a global flag or its
// value ("tui", the default, when there is none). ok is false when it cannot tell: help is
// asked for, a flag it does not know comes first, or "--".
func commandIn(args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help" || a == "help" || a == "--":
			return "", false
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			takes, known := globalFlags()[name]
			if !known {
				return "", false
			}
			if takes && !hasValue {
				i++ // its value
			}
		case strings.HasPrefix(a, "-"):
			return "", false // no short global flags: someone else's
		default:
			for _, h := range args[i:] {
				if h == "-h" || h == "--help" {
					return "", false
				}
			}
			return a, true
		}
	}
	return "tui", true
}

// globalFlags maps each global flag's name to whether it takes a value (all but booleans).
func globalFlags() map[string]bool {
	t := reflect.TypeFor[cli]()
	m := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		m[kongName(f)] = f.Type.Kind() != reflect.Bool
	}
	return m
}

// commandField is the commandLine field of the command called name.
func commandField(name string) (reflect.StructField, bool) {
	t := reflect.TypeFor[commandLine]()
	for i := range t.NumField() {
		f := t.Field(i)
		if _, isCmd := f.Tag.Lookup("cmd"); isCmd && kongName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// kongName is the name kong gives a field: its name tag, else its Go name lower-cased with
// dashes between words (AuthUser: auth-user).
func kongName(f reflect.StructField) string {
	if n := f.Tag.Get("name"); n != "" {
		return n
	}
	var b strings.Builder
	rs := []rune(f.Name)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// The shell completions and the man page are generated from kong's model of the whole command
// line (commandLine), so a command or flag added to cli.go appears in both without anyone
// editing a script by hand. cmdSpec is the part of that model they need, with kong's quirks
// (negatable flags, enums with an empty "unset" member, hidden nodes) resolved once here.

// cmdSpec is one command: the root (dialtone itself, whose flags are the global ones) or a
// subcommand.
type cmdSpec struct {
	name      string
	path      []string // command names from the root down to this one; empty for the root
	help      string
	detail    string
	flags     []flagSpec // this command's own flags (the root's are valid everywhere)
	args      []argSpec
	subs      []*cmdSpec
	isDefault bool // runs when no command is named (tui)
}

// flagSpec is one flag.
type flagSpec struct {
	long        string // without the dashes
	short       rune   // 0 if none
	negation    string // "no-loop" for a negatable flag, else ""
	help        string
	placeholder string // what the value looks like (FILE, LEVEL); "" for a boolean
	valued      bool   // takes a value
	repeat      bool   // may be given more than once
	enum        []string
	file, dir   bool // the value is a file or a directory name
	def         string
}

// argSpec is one positional argument.
type argSpec struct {
	name     string
	help     string
	optional bool
	repeat   bool
	enum     []string
	file     bool
}

// cliSpec builds kong's model of the whole command line and converts it. name and description
// are the application's (the running model's, so that help and man page say the same).
func cliSpec(name, description string) (*cmdSpec, error) {
	var whole commandLine
	parser, err := kong.New(&whole, kong.Name(name), kong.Description(description),
		kong.Exit(func(int) {}))
	if err != nil {
		return nil, fmt.Errorf("build the command line model: %w", err)
	}
	return convertNode(parser.Model.Node, nil), nil // its flags include kong's --help
}

func convertNode(n *kong.Node, parent []string) *cmdSpec {
	c := &cmdSpec{name: n.Name, help: n.Help, detail: n.Detail}
	if n.Type == kong.CommandNode {
		c.path = append(append([]string{}, parent...), n.Name)
	}
	for _, f := range n.Flags {
		if !f.Hidden {
			c.flags = append(c.flags, convertFlag(f))
		}
	}
	for _, p := range n.Positional {
		c.args = append(c.args, argSpec{
			name:     p.Name,
			help:     p.Help,
			optional: !p.Required,
			repeat:   p.IsCumulative(),
			enum:     enumValues(p),
			file:     isPathType(p.Tag),
		})
	}
	for _, child := range n.Children {
		if child.Hidden || child.Type != kong.CommandNode {
			continue
		}
		s := convertNode(child, c.path)
		s.isDefault = n.DefaultCmd == child
		c.subs = append(c.subs, s)
	}
	return c
}

func convertFlag(f *kong.Flag) flagSpec {
	s := flagSpec{
		long:   f.Name,
		short:  f.Short,
		help:   f.Help,
		valued: !f.IsBool() && !f.IsCounter(),
		repeat: f.IsCumulative() || f.IsCounter(),
		enum:   enumValues(f.Value),
		file:   isPathType(f.Tag),
	}
	if s.valued {
		s.placeholder = f.FormatPlaceHolder()
		if f.HasDefault && f.Default != "" {
			s.def = f.Default
		}
	}
	if s.file && (strings.HasSuffix(s.placeholder, "DIR") || f.Tag.Type == "existingdir") {
		s.file, s.dir = false, true
	}
	switch neg := f.Tag.Negatable; {
	case neg == "_": // kong's marker for the default negation, --no-<flag>
		s.negation = "no-" + f.Name
	case neg != "":
		s.negation = neg
	}
	return s
}

// enumValues are the values a flag or argument accepts, without the empty one that kong's
// enums list to mean "not given".
func enumValues(v *kong.Value) []string {
	if v.Enum == "" {
		return nil
	}
	var out []string
	for _, e := range v.EnumSlice() {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

func isPathType(t *kong.Tag) bool {
	switch t.Type {
	case "path", "existingfile", "existingdir", "filecontent":
		return true
	}
	return false
}

// walk calls fn for c and every command below it, parents first.
func (c *cmdSpec) walk(fn func(*cmdSpec)) {
	fn(c)
	for _, s := range c.subs {
		s.walk(fn)
	}
}

// spellings are every way to write the flag on a command line: --long, -s, --no-long.
func (f flagSpec) spellings() []string {
	out := []string{"--" + f.long}
	if f.short != 0 {
		out = append(out, "-"+string(f.short))
	}
	if f.negation != "" {
		out = append(out, "--"+f.negation)
	}
	return out
}

// key is the command's path joined with spaces ("" for the root, "password set").
func (c *cmdSpec) key() string { return strings.Join(c.path, " ") }

// subNames are the names of c's subcommands, sorted.
func (c *cmdSpec) subNames() []string {
	var out []string
	for _, s := range c.subs {
		out = append(out, s.name)
	}
	sort.Strings(out)
	return out
}

// defaultSub is the command that runs when c is given with no subcommand, or nil.
func (c *cmdSpec) defaultSub() *cmdSpec {
	for _, s := range c.subs {
		if s.isDefault {
			return s
		}
	}
	return nil
}

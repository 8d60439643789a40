package config

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyIndex records where each key of a document is, under the path that
// validation errors use ("sip.listen", "account[1].transport"). go-toml
// reports positions only for its own errors; semantic errors found after
// decoding look their key up here.
type keyIndex struct {
	keys       []keyPos // in document order, so by start offset
	byPath     map[string]int
	lineStarts []int // byte offset at which each line starts
}

type keyPos struct {
	path       string   // with array indexes: "account[1].aor"
	parts      []string // the key's parts, without indexes: ["account", "aor"]
	start, end int      // bytes from the key's start to the end of its value
}

// indexKeys parses data with go-toml's low-level parser and records every
// table header and key. It is best effort: on a syntax error, or a panic in
// the parser, it returns what it found so far, and errors then fall back to
// go-toml's own key names.
func indexKeys(data []byte) (idx *keyIndex) {
	idx = &keyIndex{byPath: map[string]int{}, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			idx.lineStarts = append(idx.lineStarts, i+1)
		}
	}
	defer func() { _ = recover() }()

	var p unstable.Parser
	p.Reset(data)
	arrays := map[string]int{} // array-of-tables path -> elements so far
	table := ""                // path of the current [table] or [[table]]
	var tableParts []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			it := e.Key()
			table, tableParts = "", nil
			start, end := -1, 0
			for it.Next() {
				k := it.Node()
				if start < 0 {
					start = int(k.Raw.Offset)
				}
				end = int(k.Raw.Offset + k.Raw.Length)
				table = joinKey(table, string(k.Data))
				tableParts = append(tableParts, string(k.Data))
				n, isArray := arrays[table]
				switch {
				case it.IsLast() && e.Kind == unstable.ArrayTable:
					arrays[table] = n + 1
					table += "[" + strconv.Itoa(n) + "]"
				case isArray && n > 0:
					// [account.x] after [[account]] means the
					// last account element.
					table += "[" + strconv.Itoa(n-1) + "]"
				}
			}
			idx.add(table, tableParts, start, end)
		case unstable.KeyValue:
			idx.addKeyValue(table, tableParts, e)
		}
	}
	return idx
}

// addKeyValue records a key = value under prefix, and the keys of any inline
// tables in its value.
func (idx *keyIndex) addKeyValue(prefix string, prefixParts []string, kv *unstable.Node) {
	path := prefix
	parts := append([]string(nil), prefixParts...)
	start := -1
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		if start < 0 {
			start = int(k.Raw.Offset)
		}
		path = joinKey(path, string(k.Data))
		parts = append(parts, string(k.Data))
	}
	end := int(kv.Raw.Offset + kv.Raw.Length)
	idx.add(path, parts, start, end)
	idx.addValue(path, parts, kv.Value(), start, end)
}

// addValue descends into inline tables and arrays: the file may spell its
// accounts as account = [{name = "a", ...}].
func (idx *keyIndex) addValue(path string, parts []string, v *unstable.Node, start, end int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				idx.addKeyValue(path, parts, c)
			}
		}
	case unstable.Array:
		it := v.Children()
		for i := 0; it.Next(); i++ {
			c := it.Node()
			elem := path + "[" + strconv.Itoa(i) + "]"
			if c.Kind == unstable.InlineTable {
				// An inline table's Raw is its "{".
				idx.add(elem, parts, int(c.Raw.Offset), end)
			} else {
				idx.add(elem, parts, start, end)
			}
			idx.addValue(elem, parts, c, start, end)
		}
	}
}

func (idx *keyIndex) add(path string, parts []string, start, end int) {
	if start < 0 {
		return
	}
	if _, ok := idx.byPath[path]; !ok {
		idx.byPath[path] = len(idx.keys)
	}
	idx.keys = append(idx.keys, keyPos{path: path, parts: parts, start: start, end: end})
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// keyLoc is a key with its 1-based line and byte column.
type keyLoc struct {
	path      string
	line, col int
}

// at returns the innermost key whose key-and-value span contains offset, or
// nil. It is how a go-toml error position becomes "account[1].expires".
func (idx *keyIndex) at(offset int) *keyLoc {
	if idx == nil || offset < 0 {
		return nil
	}
	best := -1
	for i, k := range idx.keys {
		if k.start > offset {
			// Later keys start after offset; nested keys always
			// start after their parent, so the last match wins.
			continue
		}
		if offset <= k.end && (best < 0 || k.start >= idx.keys[best].start) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	return idx.loc(idx.keys[best])
}

// find returns the position of path, or of its closest recorded ancestor
// (so a missing account[0].aor points at its [[account]] header), or nil.
func (idx *keyIndex) find(path string) *keyLoc {
	if idx == nil {
		return nil
	}
	// A lone [account] table decodes as account[0] but is indexed as
	// "account", so try the path without indexes too.
	for _, p := range []string{path, arrayIndexRE.ReplaceAllString(path, "")} {
		for p != "" {
			if i, ok := idx.byPath[p]; ok {
				return idx.loc(idx.keys[i])
			}
			cut := strings.LastIndexAny(p, ".[")
			if cut < 0 {
				break
			}
			p = p[:cut]
		}
	}
	return nil
}

var arrayIndexRE = regexp.MustCompile(`\[[0-9]+\]`)

func (idx *keyIndex) loc(k keyPos) *keyLoc {
	// lineStarts is sorted; the key's line is the last start <= k.start.
	line := sort.Search(len(idx.lineStarts), func(i int) bool { return idx.lineStarts[i] > k.start })
	return &keyLoc{path: k.path, line: line, col: k.start - idx.lineStarts[line-1] + 1}
}

package peers

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// The ng control protocol of rtpengine: a cookie, a space, and one bencoded dictionary each
// way over UDP (https://rtpengine.readthedocs.io, "The NG Control Protocol").

// bencode encodes the ng protocol's subset of bencoding: strings, integers, lists and
// dictionaries (keys sorted, as the format requires).
func bencode(v any) []byte {
	switch v := v.(type) {
	case string:
		return []byte(strconv.Itoa(len(v)) + ":" + v)
	case int:
		return []byte("i" + strconv.Itoa(v) + "e")
	case int64:
		return []byte("i" + strconv.FormatInt(v, 10) + "e")
	case []string:
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		return bencode(l)
	case []any:
		b := []byte("l")
		for _, e := range v {
			b = append(b, bencode(e)...)
		}
		return append(b, 'e')
	case map[string]any:
		b := []byte("d")
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b = append(b, bencode(k)...)
			b = append(b, bencode(v[k])...)
		}
		return append(b, 'e')
	}
	panic(fmt.Sprintf("bencode: unsupported %T", v))
}

// bdecode decodes one bencoded value: string, int64, []any or map[string]any.
func bdecode(b []byte) (any, error) {
	v, rest, err := bdecodeOne(b)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes after the value", len(rest))
	}
	return v, err
}

func bdecodeOne(b []byte) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errors.New("bencode: truncated")
	}
	switch c := b[0]; {
	case c == 'i':
		end := bytes.IndexByte(b, 'e')
		if end < 0 {
			return nil, nil, errors.New("bencode: unterminated integer")
		}
		n, err := strconv.ParseInt(string(b[1:end]), 10, 64)
		return n, b[end+1:], err
	case c == 'l' || c == 'd':
		var l []any
		m := map[string]any{}
		rest := b[1:]
		for len(rest) > 0 && rest[0] != 'e' {
			v, r, err := bdecodeOne(rest)
			if err != nil {
				return nil, nil, err
			}
			if c == 'l' {
				l, rest = append(l, v), r
				continue
			}
			k, ok := v.(string)
			if !ok {
				return nil, nil, fmt.Errorf("bencode: dictionary key is a %T", v)
			}
			if m[k], rest, err = bdecodeOne(r); err != nil {
				return nil, nil, err
			}
		}
		if len(rest) == 0 {
			return nil, nil, errors.New("bencode: unterminated list or dictionary")
		}
		if c == 'l' {
			return l, rest[1:], nil
		}
		return m, rest[1:], nil
	case c >= '0' && c <= '9':
		colon := bytes.IndexByte(b, ':')
		if colon < 0 {
			return nil, nil, errors.New("bencode: string without a length")
		}
		n, err := strconv.Atoi(string(b[:colon]))
		if err != nil || n < 0 || colon+1+n > len(b) {
			return nil, nil, errors.New("bencode: bad string length")
		}
		return string(b[colon+1 : colon+1+n]), b[colon+1+n:], nil
	}
	return nil, nil, fmt.Errorf("bencode: unexpected %q", b[0])
}

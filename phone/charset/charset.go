// Package charset decodes text that names its IANA charset (a MESSAGE's Content-Type, a vCard
// 2.1 property's CHARSET) into UTF-8: one decoder, so that a charset read in one place is read
// in the other.
package charset

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// supersets decode charsets the IANA index names but has no decoder for, by the superset each
// is a part of: GB2312 as MIME uses it (EUC-CN) is within GBK, TIS-620 within Windows-874.
var supersets = map[string]encoding.Encoding{
	"gb2312": simplifiedchinese.GBK, "csgb2312": simplifiedchinese.GBK, "euc-cn": simplifiedchinese.GBK,
	"tis-620": charmap.Windows874, "cstis620": charmap.Windows874,
}

// Decode gives b, in the IANA charset cs, as UTF-8. UTF-8 and US-ASCII come back as they are,
// unchecked: the caller decides what invalid bytes mean. A charset nobody knows (the empty
// name too) is an error.
func Decode(cs string, b []byte) (string, error) {
	switch strings.ToLower(cs) {
	case "utf-8", "utf8", "us-ascii":
		return string(b), nil
	}
	enc, err := ianaindex.MIME.Encoding(cs)
	if s, ok := supersets[strings.ToLower(cs)]; ok && enc == nil {
		enc, err = s, nil
	}
	if err != nil || enc == nil {
		return "", fmt.Errorf("unknown charset %q", cs)
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", fmt.Errorf("not %s: %w", cs, err)
	}
	return string(out), nil
}

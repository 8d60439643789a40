package store

import "strings"

// TelAlias is the tel: form of a SIP address whose user part is a telephone number
// (sip:+15550100@provider.example -> tel:+15550100), "" for any other address. Calls through a
// provider arrive from and go to such addresses, while address books keep the number: a
// contact's tel: entry names them too (NameFor, and the front ends' lookups).
func TelAlias(normalized string) string {
	rest, ok := strings.CutPrefix(normalized, "sip:")
	if !ok {
		if rest, ok = strings.CutPrefix(normalized, "sips:"); !ok {
			return ""
		}
	}
	user, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	if i := strings.IndexByte(user, ';'); i >= 0 { // user parameters (;isub=, ;phone-context=)
		user = user[:i]
	}
	num := strings.Map(func(r rune) rune {
		if strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, user)
	digits := strings.TrimPrefix(num, "+")
	if len(digits) < 3 {
		return ""
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return "tel:" + num
}

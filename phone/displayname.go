package phone

import "strings"

// A display name goes into From between double quotes (RFC 3261 25.1 quoted-string), where '"'
// and a backslash must be quoted pairs. sipgo writes our DisplayName between quotes as it is
// and reads a peer's back with the pairs left in, so we quote what we send and unquote what we
// show: 'Alice "Ali" Smith' broke every request's From before.

var (
	displayQuoter   = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	displayUnquoter = strings.NewReplacer(`\\`, `\`, `\"`, `"`)
)

// quoteDisplay is name as the inside of a quoted-string.
func quoteDisplay(name string) string { return displayQuoter.Replace(name) }

// unquoteDisplay is the display name a peer sent, its quoted pairs undone.
func unquoteDisplay(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	return displayUnquoter.Replace(s)
}

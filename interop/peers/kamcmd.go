package peers

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Binding is one registered contact of an AOR as reported by usrloc.
type Binding struct {
	Address   string // contact URI as registered
	Expires   int    // seconds left (0 for a permanent binding)
	Received  string // source address recorded for NATed/connection-oriented clients, "" if none
	Socket    string // kamailio's receiving socket, e.g. "tcp:127.0.0.1:5060"
	UserAgent string // "" if the REGISTER carried none
	CallID    string
	CSeq      int
}

// usrlocUser reduces an AOR to the usrloc key. usrloc runs with
// use_domain=0 (the proxy serves only 127.0.0.1), so the key is the user
// part: "sip:alice@127.0.0.1" -> "alice". A bare "alice" is accepted too.
func usrlocUser(aor string) string {
	s := strings.TrimSpace(aor)
	s = strings.TrimPrefix(strings.TrimSuffix(s, ">"), "<")
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.Contains(s[:i], "@") {
		switch strings.ToLower(s[:i]) {
		case "sip", "sips", "tel":
			s = s[i+1:]
		}
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Contacts returns the contact URIs currently bound to aor (e.g.
// "sip:alice@127.0.0.1") in the location table. Bindings that have expired
// but were not yet purged by usrloc's timer are left out. It returns an
// empty slice, not an error, when there are none.
func (k *Kamailio) Contacts(aor string) ([]string, error) {
	bs, err := k.Bindings(aor)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(bs))
	for _, b := range bs {
		out = append(out, b.Address)
	}
	return out, nil
}

// Bindings is like Contacts but returns the details usrloc keeps for each
// live binding.
func (k *Kamailio) Bindings(aor string) ([]Binding, error) {
	user := usrlocUser(aor)
	if user == "" {
		return nil, fmt.Errorf("peers: no user in AOR %q", aor)
	}
	out, err := k.rpc("ul.lookup", "location", user)
	if err != nil {
		if strings.Contains(out, "not found") || strings.Contains(err.Error(), "not found") {
			return []Binding{}, nil
		}
		return nil, err
	}
	return parseULLookup(out), nil
}

// parseULLookup parses kamcmd's rendering of ul.lookup:
//
//	{
//		AoR: alice
//		Contacts: {
//			Contact: {
//				Address: sip:alice@127.0.0.1:45678;transport=tcp
//				Expires: 4
//				...
//			}
//		}
//	}
func parseULLookup(out string) []Binding {
	bs := []Binding{}
	var cur *Binding
	live := false
	flush := func() {
		if cur != nil && live {
			bs = append(bs, *cur)
		}
		cur = nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "Contact: {" {
			flush()
			cur, live = &Binding{}, false
			continue
		}
		if cur == nil {
			continue
		}
		if line == "}" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "Address":
			cur.Address = val
		case "Expires":
			// a number of seconds left, "permanent", "expired" or "deleted"
			switch {
			case val == "permanent":
				cur.Expires, live = 0, true
			default:
				if n, err := strconv.Atoi(val); err == nil && n > 0 {
					cur.Expires, live = n, true
				}
			}
		case "Received":
			if val != "[not set]" {
				cur.Received = val
			}
		case "Socket":
			cur.Socket = val
		case "User-Agent":
			if val != "n/a" {
				cur.UserAgent = val
			}
		case "Call-ID":
			cur.CallID = val
		case "CSeq":
			cur.CSeq, _ = strconv.Atoi(val)
		}
	}
	flush()
	return bs
}

// Stat returns the value of a Kamailio statistic such as
// "rcv_requests_register" (or with its group, "core:rcv_requests_register").
func (k *Kamailio) Stat(name string) (int, error) {
	query := name
	if _, short, ok := strings.Cut(name, ":"); ok {
		query = short // kamcmd finds nothing for "group:name"
	}
	out, err := k.rpc("stats.get_statistics", query)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		full, val, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok {
			continue
		}
		_, short, _ := strings.Cut(full, ":")
		if full != name && short != name {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return 0, fmt.Errorf("peers: statistic %s: bad value %q", name, val)
		}
		return n, nil
	}
	return 0, fmt.Errorf("peers: no statistic %q", name)
}

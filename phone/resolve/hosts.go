package resolve

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// The C library answers names from /etc/hosts before it asks DNS ("files dns" in
// nsswitch.conf), and so did the standard library resolver the phone used before: localhost
// and a user's own entries for a lab PBX must keep working. Only A/AAAA are answered from it;
// NAPTR and SRV are DNS only.

// hostsFile is /etc/hosts, read again when it changes.
type hostsFile struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	byName  map[string][]netip.Addr
}

// lookup returns the file's addresses for name (case-insensitive, without the final dot).
func (h *hostsFile) lookup(name string) []netip.Addr {
	if h == nil || h.path == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	st, err := os.Stat(h.path)
	if err != nil {
		h.byName = nil
		return nil
	}
	if !st.ModTime().Equal(h.modTime) || st.Size() != h.size || h.byName == nil {
		f, err := os.Open(h.path)
		if err != nil {
			return nil
		}
		h.byName = parseHosts(io.LimitReader(f, 1<<20))
		f.Close()
		h.modTime, h.size = st.ModTime(), st.Size()
	}
	return h.byName[strings.ToLower(strings.TrimSuffix(name, "."))]
}

// parseHosts reads hosts(5) lines: an address, then names; "#" starts a comment. Lines that
// do not parse are skipped, as the C library does.
func parseHosts(r io.Reader) map[string][]netip.Addr {
	out := map[string][]netip.Addr{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil || ip.Zone() != "" {
			continue
		}
		ip = ip.Unmap()
		for _, name := range f[1:] {
			name = strings.ToLower(strings.TrimSuffix(name, "."))
			// ".." leaves "." (the root, which isDomainName accepts): not a host (FuzzParseHosts).
			if _, ok := isDomainName(name); !ok || name == "" || strings.HasSuffix(name, ".") {
				continue
			}
			dup := false
			for _, a := range out[name] {
				dup = dup || a == ip
			}
			if !dup {
				out[name] = append(out[name], ip)
			}
		}
	}
	return out
}

package peers

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UDPSocket is one row of /proc/net/udp (or udp6): a UDP socket of this network namespace.
type UDPSocket struct {
	Port  int    // local port
	Inode string // matches a process's fd link "socket:[INODE]"
	Drops int64  // datagrams the kernel dropped on it (its receive buffer was full)
}

// UDPSockets reads the UDP sockets of this network namespace from the given /proc/net files
// ("udp", "udp6"). A file that cannot be read is skipped (no udp6 without IPv6); it is an
// error when none could be.
func UDPSockets(files ...string) ([]UDPSocket, error) {
	var out []UDPSocket
	var firstErr error
	read := 0
	for _, name := range files {
		raw, err := os.ReadFile(filepath.Join("/proc/net", name))
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		read++
		for _, line := range strings.Split(string(raw), "\n") {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
			f := strings.Fields(line)
			if len(f) < 13 {
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if !ok {
				continue
			}
			port, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil {
				continue // the header line
			}
			drops, _ := strconv.ParseInt(f[12], 10, 64)
			out = append(out, UDPSocket{Port: int(port), Inode: f[9], Drops: drops})
		}
	}
	if read == 0 {
		return nil, firstErr
	}
	return out, nil
}

// SocketInodes is the set of socket inodes process pid holds open (its /proc/PID/fd links).
func SocketInodes(pid int) (map[string]bool, error) {
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return inodes, nil
}

package phone

// sipgo (v1.7.3) checks each parameter of a header or URI against every one before it, so the
// time to parse a header grows with the square of its parameters: a datagram of 32 KB (the
// most sipgo reads of one) whose To URI carries 6400 of them (";paaa;pbaa…") cost 93 ms of
// CPU, so anyone who can reach our UDP port kept a CPU busy with ten a second (320 KB/s). sipgo v1.7.4 refuses more than
// 100, but its connection pool also stops finding TCP connections by local address, which
// the flows and failover here rely on (flow.go, failover.go). So the screen (scanner.go)
// drops such datagrams before sipgo sees them. No real message comes near the limit: the
// most parameters a header carries in practice (a Via or a Contact with RFC 5626 and RFC 3840
// feature tags) are a dozen or two.
const maxHeaderParams = 100

// tooManyParams reports whether a line of a datagram's head (its start line or a header, a
// folded header counted whole) holds more than maxHeaderParams parameter separators: ';' of
// header and URI parameters, '?' and '&' of URI headers. The body is not looked at. Linear
// and allocation-free: it runs on every datagram.
func tooManyParams(data []byte) bool {
	n := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			next := i + 1
			if next < len(data) && (data[next] == ' ' || data[next] == '\t') {
				continue // a folded line goes on: one header
			}
			if next < len(data) && data[next] == '\n' || next+1 < len(data) && data[next] == '\r' && data[next+1] == '\n' {
				return false // the empty line: the body follows
			}
			n = 0
		case ';', '?', '&':
			if n++; n > maxHeaderParams {
				return true
			}
		}
	}
	return false
}

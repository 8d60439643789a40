// Package config reads, validates and writes dialtone's TOML configuration
// file.
//
// The file lives at DefaultPath(): $XDG_CONFIG_HOME/dialtone/config.toml, or
// ~/.config/dialtone/config.toml when XDG_CONFIG_HOME is unset. Decoding is
// strict (keys are case-sensitive): an unknown key, a value of the wrong type
// or an invalid value is an error of type *Error that names the file, the
// line and column, and the key, for example:
//
//	/home/a/.config/dialtone/config.toml:7:1: account[0].transport: "udpx" is not one of udp, tcp, tls
//
// A complete example (every key except name and aor is optional):
//
//	[sip]
//	listen = "0.0.0.0:5062"        # local SIP address; default: any free port
//	user_agent = "dialtone"        # User-Agent header
//	tls_ca = "/path/ca.pem"        # extra PEM CA bundle to trust (~ is expanded)
//	tls_insecure = false           # true disables certificate verification (warned about)
//	rtp_ports = "10000-20000"      # local RTP ports (even; RTCP on the next); default 10000-60000
//
//	[audio]
//	backend = "device"             # "device" (PortAudio, the default) or "null"
//	input_device = ""              # device name or index; "" = system default
//	output_device = ""
//	echo_cancellation = true       # echo cancellation, noise suppression, AGC on devices
//
//	[[account]]
//	name = "work"                  # required, unique, letters, digits, '.', '_', '-'
//	aor = "sip:alice@example.com"  # required: sip: or sips: URI with user and host
//	auth_user = "alice"            # digest user name; default: the AOR user
//	display_name = "Alice"
//	registrar = "sip:example.com"  # default sip:<aor host> (sips: for a sips: AOR); no user part
//	outbound_proxy = ""            # sip:host[:port] or sips:host[:port]; no user part
//	transport = "udp"              # udp, tcp or tls; default udp, or tls for a sips: registrar/proxy
//	expires = 600                  # registration lifetime in seconds, 1..86400; default 600
//	register = true                # default true; false = use the account only for outgoing calls
//	codecs = ["opus", "G722", "PCMU", "PCMA"]  # preference, best first; default: all this build has
//	media_encryption = "sdes"      # none, sdes (SRTP offered, plain accepted) or sdes-required;
//	                               # default sdes over TLS, none otherwise
//	# At most one password source:
//	password_env = "WORK_SIP_PASSWORD"            # environment variable holding the password
//	# password_cmd = "pass show sip/work"         # sh -c command printing the password
//	# password_file = "~/.config/dialtone/work.pass"  # file holding the password
//	# password_keyring = "dialtone"                # the OS keyring (service; user: Account.KeyringUser)
//
// More accounts are further [[account]] tables.
//
// Password sources: password_env names an environment variable that must be
// set and non-empty. password_cmd runs under `sh -c` with stdin closed and a
// 10 second timeout; its stdout, minus one trailing newline, is the password.
// password_file is read (a leading ~ is expanded, and a relative path is
// relative to the config file's directory) and one trailing newline removed;
// a file readable by group or others still works, but
// Account.FileWarnings reports it (File.FileWarnings does the same for the
// config file itself). Errors from password sources never
// contain the password or the command's output on stdout.
//
// Validate fills in defaults, so a validated File or Account states every
// effective setting explicitly; Save writes such a File back (comments are not
// preserved).
package config

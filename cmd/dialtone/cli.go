package main

import (
	"fmt"

	"github.com/alecthomas/kong"
)

// cli is the global flags: they apply to every command; the ad-hoc account flags let a script
// use dialtone with no config file at all.
type cli struct {
	Config  string      `help:"Config file (default $$XDG_CONFIG_HOME/dialtone/config.toml)." placeholder:"FILE" type:"path"`
	Account []string    `help:"Use only these accounts from the config file (repeatable)." placeholder:"NAME"`
	Version versionFlag `help:"Print version information and exit."`

	AOR           string `name:"aor" help:"Ad-hoc account: address of record, e.g. sip:alice@example.com (replaces the config file's accounts)." placeholder:"URI"`
	AuthUser      string `help:"Ad-hoc account: digest user name (default: the AOR's user)." placeholder:"USER"`
	DisplayName   string `help:"Ad-hoc account: display name." placeholder:"NAME"`
	Registrar     string `help:"Ad-hoc account: registrar, sip:host[:port] (default: the AOR's domain)." placeholder:"URI"`
	OutboundProxy string `help:"Ad-hoc account: outbound proxy, sip:host[:port]." placeholder:"URI"`
	Transport     string `help:"Ad-hoc account: transport: udp, tcp or tls." enum:"udp,tcp,tls," default:"" placeholder:"udp|tcp|tls"`
	Expires       int    `help:"Ad-hoc account: registration lifetime in seconds (default 600)." placeholder:"SECONDS"`
	PasswordFile  string `help:"Ad-hoc account: read the password from this file (else $$DIALTONE_PASSWORD)." placeholder:"FILE" type:"path"`
	PasswordCmd   string `help:"Ad-hoc account: run this shell command and use its output as the password." placeholder:"CMD"`

	Listen      string `help:"Local SIP address for UDP (default: any free port)." placeholder:"ADDR:PORT"`
	TLSCA       string `name:"tls-ca" help:"Extra PEM CA certificate(s) to trust for TLS." placeholder:"FILE" type:"path"`
	TLSInsecure bool   `name:"tls-insecure" help:"Do not verify TLS certificates (unsafe; for testing only)."`
	RTPPorts    string `name:"rtp-ports" help:"Local RTP port range (even ports; RTCP on the next one; default 10000-60000)." placeholder:"MIN-MAX"`

	STUNServer       string `name:"stun-server" help:"STUN server asked for our public address behind NAT (overrides stun_server)." placeholder:"HOST[:PORT]"`
	TURNServer       string `name:"turn-server" help:"TURN relay for media behind a symmetric NAT (overrides turn_server)." placeholder:"HOST[:PORT]"`
	TURNUser         string `name:"turn-user" help:"TURN user name (with --turn-server)." placeholder:"USER"`
	TURNPasswordFile string `name:"turn-password-file" help:"Read the TURN password from this file (else $$DIALTONE_TURN_PASSWORD)." placeholder:"FILE" type:"path"`
	RTPTimeout       string `name:"rtp-timeout" help:"Hang up an answered call after this long without RTP or RTCP: a duration, or off (default 30s)." placeholder:"DURATION|off"`
	KeepAlive        string `name:"keepalive" help:"Keep-alive interval towards the registrar (CRLF on UDP, CRLFCRLF pings on TCP/TLS): a duration, or off (default 25s)." placeholder:"DURATION|off"`
	DNSServer        string `name:"dns-server" help:"DNS server for NAPTR/SRV/A look-ups (default: the system's)." placeholder:"HOST[:PORT]"`

	Codecs          string `name:"codecs" help:"Codecs to offer and accept, best first, comma-separated: opus, G722, PCMU, PCMA (overrides codecs; default: all this build has, wideband first)." placeholder:"LIST"`
	Ptime           int    `name:"ptime" help:"Packet duration, in ms, to ask the far end to send: 10 to 60 in tens (overrides ptime; default 20). Packets of any duration play whole." placeholder:"MS"`
	MediaEncryption string `name:"media-encryption" help:"SRTP policy for every call: none, sdes (offer SRTP, accept plain) or sdes-required (overrides media_encryption; default sdes over TLS, none otherwise)." enum:"none,sdes,sdes-required," default:"" placeholder:"POLICY"`
	NoAEC           bool   `name:"no-aec" help:"Use the sound devices without echo cancellation, noise suppression and automatic gain (overrides echo_cancellation)."`

	JSON     bool   `name:"json" help:"Print events as NDJSON on stdout (one object per line)."`
	DataDir  string `name:"data-dir" help:"Where the call and message history lives (default $$XDG_DATA_HOME/dialtone)." placeholder:"DIR" type:"path"`
	LogFile  string `help:"Write logs to this file instead of stderr." placeholder:"FILE" type:"path"`
	LogLevel string `help:"Log level: debug, info, warn, error (default: warn on stderr, info in a log file)." enum:"debug,info,warn,error," default:"" placeholder:"LEVEL"`
	SIPTrace string `name:"sip-trace" help:"Write every SIP message sent and received to this file." placeholder:"FILE" type:"path"`
	PCAP     string `name:"pcap" help:"Write every SIP message sent and received to this capture file (pcapng, for Wireshark/tshark; SRTP keys masked)." placeholder:"FILE" type:"path"`
	PCAPRTP  bool   `name:"pcap-rtp" help:"With --pcap, also write every RTP and RTCP packet (decrypted on SRTP calls)."`
}

// commandLine is the whole command line: the global flags and every command (parse.go builds
// kong's model of only the one a command line names, when it can).
type commandLine struct {
	cli

	TUI      tuiCmd      `cmd:"" name:"tui" default:"withargs" help:"Open the full-screen softphone (the default when no command is given)."`
	Register registerCmd `cmd:"" help:"Register the accounts, print each state change, stay registered until interrupted."`
	Call     callCmd     `cmd:"" help:"Place a call; the exit code says how it went."`
	Answer   answerCmd   `cmd:"" help:"Wait for calls and answer (or reject) them."`
	Load     loadCmd     `cmd:"" help:"Place many calls at a set rate (a load test) and report setup times, loss, jitter and MOS."`
	Serve    serveCmd    `cmd:"" help:"Run a phone that scripts drive through a control socket (see ctl): registers, places and takes calls."`
	Ctl      ctlCmd      `cmd:"" help:"Send one command to a running dialtone serve and print the reply, or follow its events (ctl events)."`
	Devices  devicesCmd  `cmd:"" help:"List sound devices."`
	Message  messageCmd  `cmd:"" help:"Send an instant message (SIP MESSAGE)."`
	History  historyCmd  `cmd:"" help:"List past calls and messages, newest first."`
	Doctor   doctorCmd   `cmd:"" help:"Check an account's path to its provider (DNS, transports, TLS, NAT, REGISTER) and print one report."`
	Password passwordCmd `cmd:"" help:"Store or delete an account's password in the OS keyring (password_keyring)."`
	Trace    traceCmd    `cmd:"" help:"Print the SIP messages of a capture file (--pcap, or any pcap/pcapng) as a ladder per Call-ID."`
	Contacts contactsCmd `cmd:"" help:"Manage the address book: list, add, remove, import and export vCard."`
	VersionC versionCmd  `cmd:"" name:"version" help:"Print version information."`

	Completion completionCmd `cmd:"" help:"Print a shell completion script: bash, zsh or fish (source <(dialtone completion bash))."`
	Man        manCmd        `cmd:"" hidden:"" help:"Print the manual page, dialtone(1), in roff."`
}

// versionFlag prints the version and exits, before any command runs.
type versionFlag bool

// BeforeReset is kong's hook for flags that act on their own.
func (versionFlag) BeforeReset(app *kong.Kong) error {
	fmt.Fprintln(app.Stdout, versionText())
	app.Exit(0)
	return nil
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	fmt.Fprintln(e.stdout, versionText())
	return nil
}

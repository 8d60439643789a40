package main

import "github.com/dialtone/dialtone/phone"

// Exit codes are part of dialtone's interface: scripts branch on them. The README lists them.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2 // bad flags, bad config file, missing password source
	exitAuth     = 3
	exitNetwork  = 4 // DNS, unreachable, no response, TLS handshake or certificate
	exitRefused  = 5 // any other final failure from the server
	exitBusy     = 10
	exitNoAnswer = 11
	exitDeclined = 12
	exitNotFound = 13
	exitMedia    = 14 // an answered call lost its media (no RTP or RTCP for the RTP timeout)
	// 15 and 16 are dialtone load's (load_report.go).
	exitInsecure = 17 // media encryption could not be agreed (media_encryption policy)
)

// exitCodeFor maps a failure class from the phone core to the exit code table.
func exitCodeFor(f phone.Failure) int {
	switch f {
	case phone.NoFailure:
		return exitOK
	case phone.FailureAuth:
		return exitAuth
	case phone.FailureNetwork:
		return exitNetwork
	case phone.FailureRefused:
		return exitRefused
	case phone.FailureConfig:
		return exitUsage
	case phone.FailureNotFound:
		return exitNotFound
	case phone.FailureBusy:
		return exitBusy
	case phone.FailureNoAnswer:
		return exitNoAnswer
	case phone.FailureDeclined:
		return exitDeclined
	case phone.FailureMedia:
		return exitMedia
	case phone.FailureInsecure:
		return exitInsecure
	}
	return exitInternal
}

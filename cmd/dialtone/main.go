// Command dialtone is a terminal SIP softphone.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Set at link time by the release build (see .goreleaser.yaml).
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	stopProfile := startProfile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the command to finish (hang up, unregister); a second one, while
	// it does, ends the process as signals do by default.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	stopProfile()
	os.Exit(code)
}

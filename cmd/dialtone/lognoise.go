package main

import (
	"log/slog"

	"github.com/dialtone/dialtone/phone"
	"github.com/emiago/sipgo/sip"
)

// setSIPLogger makes log sipgo's process-wide logger (its transports log through it), with
// sipgo's records cut and limited as the phone's own sipgo loggers are (phone/siplog.go).
func setSIPLogger(log *slog.Logger) {
	sip.SetDefaultLogger(phone.SIPLogger(log))
}

package main

import (
	"errors"

	"github.com/dialtone/dialtone/phone"
)

// The core's hold, transfer and do-not-disturb API (issue 9) is being written beside this
// adapter. Until each method lands, the TUI says plainly that the action is not there yet;
// each function becomes a direct call (and this file goes) when it does.

var errNotYet = errors.New("not available yet in this build")

func coreHold(*phone.Phone, string) error               { return errNotYet }
func coreResume(*phone.Phone, string) error             { return errNotYet }
func coreTransfer(*phone.Phone, string, string) error   { return errNotYet }
func coreTransferTo(*phone.Phone, string, string) error { return errNotYet }
func coreSetDND(*phone.Phone, bool) error               { return errNotYet }
func coreDND(*phone.Phone) bool                         { return false }

package main

import (
	"errors"
	"reflect"

	"github.com/dialtone/dialtone/phone"
)

// The core's hold, DND and transfer methods are being written beside this front end. Until
// each lands, these adapters find it by its agreed signature and otherwise say "not supported
// yet"; once all have landed they become plain calls.

var errCtlNotYet = errors.New("not supported yet")

func holdCall(ph *phone.Phone, id string) error {
	if h, ok := any(ph).(interface{ Hold(string) error }); ok {
		return h.Hold(id)
	}
	return errCtlNotYet
}

func resumeCall(ph *phone.Phone, id string) error {
	if h, ok := any(ph).(interface{ Resume(string) error }); ok {
		return h.Resume(id)
	}
	return errCtlNotYet
}

func transferCall(ph *phone.Phone, id, target string) error {
	if h, ok := any(ph).(interface{ Transfer(string, string) error }); ok {
		return h.Transfer(id, target)
	}
	return errCtlNotYet
}

func setDND(ph *phone.Phone, on bool, code int) error {
	if h, ok := any(ph).(interface{ SetDND(bool, int) }); ok {
		h.SetDND(on, code)
		return nil
	}
	return errCtlNotYet
}

func getDND(ph *phone.Phone) (bool, int, error) {
	if h, ok := any(ph).(interface{ DND() (bool, int) }); ok {
		on, code := h.DND()
		return on, code, nil
	}
	return false, 0, errCtlNotYet
}

// heldOf reads CallStatus.Held (we hold the call) once the core has it.
func heldOf(s phone.CallStatus) bool {
	f := reflect.ValueOf(s).FieldByName("Held")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

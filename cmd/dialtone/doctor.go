package main

import "errors"

// doctorCmd checks an account's whole path to its provider and prints one report.
// (Being written: see issue 8.)
type doctorCmd struct {
	Account string `arg:"" optional:"" help:"Account to check (default: the first)." placeholder:"ACCOUNT"`
}

func (c *doctorCmd) Run(e *env) error {
	return &exitError{code: exitInternal, err: errors.New("doctor: not built yet")}
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
)

// openHistoryOrWarn opens the history for a phone. When the data directory cannot be written
// (read-only, full, wrong owner), a phone without a history still places and answers calls
// and shows messages: that matters more than the record, so it says why on stderr and goes on
// without one (nil). A usage error (no data directory at all, a history written by a newer
// dialtone) still stops the command: the user must fix it, and nothing would be lost silently.
func (e *env) openHistoryOrWarn() (*history, func(), error) {
	hist, closeHist, err := e.openHistory()
	if err == nil {
		return hist, closeHist, nil
	}
	var xe *exitError
	if errors.As(err, &xe) {
		return nil, nil, err
	}
	reason := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) { // say the file and the cause once, not each layer's restatement
		reason = fmt.Sprintf("%s: %v", pe.Path, pe.Err)
	}
	fmt.Fprintf(e.stderr, "dialtone: warning: cannot write the history (%s); calls and messages work but are not recorded\n", reason)
	return nil, nil, nil
}

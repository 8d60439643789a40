//go:build !linux

package media

import (
	"errors"
	"time"
)

// frameTimer is Linux only (timerfd_linux.go); elsewhere each session paces itself on a Go ticker.
type frameTimer struct{}

func newFrameTimer(time.Duration) (*frameTimer, error) { return nil, errors.ErrUnsupported }
func (*frameTimer) wait() bool                         { return false }
func (*frameTimer) close()                             {}

func (*frameTimer) rearm(time.Duration, time.Time) error { return errors.ErrUnsupported }
func (*frameTimer) period() (time.Duration, error)       { return 0, errors.ErrUnsupported }

package media

import (
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs hands the TURN client's logs to the session's logger. Without it pion logs to its
// own default (warnings and errors on stderr, hidden behind the TUI), so a relay lost mid-call
// (a failed allocation or permission refresh) showed only as silence. Warnings and errors keep
// their level; pion's info is debug here (per-transaction chatter), its trace dropped.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (pionLogger) Trace(string)          {}
func (pionLogger) Tracef(string, ...any) {}

func (l pionLogger) Debug(msg string)                  { l.log.Debug(msg) }
func (l pionLogger) Debugf(format string, args ...any) { l.log.Debug(fmt.Sprintf(format, args...)) }
func (l pionLogger) Info(msg string)                   { l.log.Debug(msg) }
func (l pionLogger) Infof(format string, args ...any)  { l.log.Debug(fmt.Sprintf(format, args...)) }
func (l pionLogger) Warn(msg string)                   { l.log.Warn("TURN: " + msg) }
func (l pionLogger) Warnf(format string, args ...any) {
	l.log.Warn("TURN: " + fmt.Sprintf(format, args...))
}
func (l pionLogger) Error(msg string) { l.log.Error("TURN: " + msg) }
func (l pionLogger) Errorf(format string, args ...any) {
	l.log.Error("TURN: " + fmt.Sprintf(format, args...))
}

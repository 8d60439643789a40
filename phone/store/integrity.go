package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// IntegrityCheck runs SQLite's PRAGMA integrity_check over the whole file: nil when it is
// sound, else an error naming what SQLite found (its first lines). It only reads, so it works
// on a Store from OpenReadOnly too; after a crash or a full disk it tells a damaged history
// from one that merely lacks what could not be written.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check(10)")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("store: integrity check: %w", err)
		}
		found = append(found, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(found) == 1 && found[0] == "ok" {
		return nil
	}
	if len(found) == 0 {
		return errors.New("store: integrity check returned nothing")
	}
	return fmt.Errorf("store: the history is damaged: %s", strings.Join(found, "; "))
}

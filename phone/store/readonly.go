package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// OpenReadOnly opens an existing history only to read it: for listing a history whose
// directory cannot be written (a read-only mount, a full disk, another user's files), where
// Open fails. Writes through the returned Store fail.
//
// Even a reader of a WAL database needs the -shm file beside it. When the -wal file exists
// (dialtone was killed: committed rows may still be only in the WAL) SQLite can read through
// the existing -wal and -shm; when it does not (a clean close checkpointed everything into the
// database), there is nothing beyond the main file and it is opened as immutable, which needs
// no -shm at all.
func OpenReadOnly(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	extra := "mode=ro&_query_only=1"
	if _, err := os.Stat(abs + "-wal"); errors.Is(err, os.ErrNotExist) {
		extra += "&immutable=1"
	}
	db, err := sql.Open("sqlite", dsn(abs, extra))
	if err != nil {
		return nil, fmt.Errorf("store: opening %s read-only: %w", abs, err)
	}
	db.SetMaxOpenConns(readConns)
	v, err := userVersion(context.Background(), db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s read-only: %w", abs, err)
	}
	switch {
	case v > len(migrations):
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", abs, tooNew(v, len(migrations)))
	case v < readOnlyMinVersion:
		db.Close()
		return nil, fmt.Errorf("store: %s is at schema version %d and needs upgrading, which a read-only file does not allow", abs, v)
	case v == len(migrations):
		v = 0
	}
	return &Store{w: db, r: db, version: v}, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// busyTimeoutMS bounds how long a statement waits for another process's
// lock before failing with SQLITE_BUSY. Within one Store writers queue on
// the single write connection instead, so this only matters when two
// processes share the file.
const busyTimeoutMS = 5000

// readConns is the size of the read pool. WAL readers do not block each
// other or the writer; a handful is plenty for a UI and a CLI.
const readConns = 4

// Store is the call and message history. Its methods are safe for
// concurrent use.
type Store struct {
	w *sql.DB // exactly one connection: every write goes through it
	r *sql.DB // reads; the same pool as w for an in-memory store
	// version is the schema of a file opened read-only, which cannot be upgraded; 0 means the
	// current one (Open upgrades).
	version int
	// stmts are the writer's prepared statements, by their SQL (prepared): database/sql
	// otherwise has SQLite parse and plan each INSERT anew, which was most of a call's
	// history write (BenchmarkAddCall).
	stmts sync.Map // string -> *sql.Stmt
}

// DefaultPath is where the history lives: $XDG_DATA_HOME/dialtone/history.db,
// else ~/.local/share/dialtone/history.db (the XDG default).
func DefaultPath() (string, error) {
	// The spec says a relative XDG_DATA_HOME is invalid and to be ignored.
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "dialtone", "history.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("store: finding the history file: %w", err)
	}
	return filepath.Join(home, ".local", "share", "dialtone", "history.db"), nil
}

// Open opens the history file at path, creating it (mode 0600, directory
// 0700: messages are private) and bringing its schema up to date. A file
// written by a newer dialtone is refused with ErrSchemaTooNew and left
// untouched.
func Open(path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating the history directory: %w", err)
	}
	// Create the file ourselves: SQLite would use 0644. Its -wal and -shm
	// files copy the database file's mode, so they are private too.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: creating the history file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: creating the history file: %w", err)
	}

	// The writer takes the write lock when a transaction begins
	// (_txlock=immediate): a deferred transaction that later tries to
	// upgrade its read lock can fail with SQLITE_BUSY at once, whatever
	// busy_timeout says.
	w, err := sql.Open("sqlite", dsn(abs, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: w, r: w}
	if err := s.setUp(context.Background(), true); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %s: %w", abs, err)
	}
	// query_only makes a stray write on the read pool an error rather than
	// a second writer competing for the lock.
	r, err := sql.Open("sqlite", dsn(abs, "_query_only=1"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: opening %s: %w", abs, err)
	}
	r.SetMaxOpenConns(readConns)
	// Connections open lazily; fail here rather than at the first query.
	if err := r.Ping(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: opening %s for reading: %w", abs, err)
	}
	s.r = r
	return s, nil
}

// OpenMemory opens an empty history that lives in memory, for tests. It
// uses one connection for reads and writes, since every new connection to
// ":memory:" would be a new, empty database.
func OpenMemory() (*Store, error) {
	db, err := sql.Open("sqlite", "file::memory:?"+commonParams())
	if err != nil {
		return nil, fmt.Errorf("store: opening in-memory history: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{w: db, r: db}
	if err := s.setUp(context.Background(), false); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening in-memory history: %w", err)
	}
	return s, nil
}

// Close closes the history. The writer is closed last so that its final
// checkpoint folds the WAL back into the main file.
func (s *Store) Close() error {
	var err error
	s.stmts.Range(func(_, st any) bool {
		err = errors.Join(err, st.(*sql.Stmt).Close())
		return true
	})
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if werr := s.w.Close(); werr != nil {
		err = errors.Join(err, werr)
	}
	if err != nil {
		return fmt.Errorf("store: closing: %w", err)
	}
	return nil
}

// prepared is the writer's statement for q, prepared the first time it is asked for.
func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.w.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if first, loaded := s.stmts.LoadOrStore(q, st); loaded { // another caller prepared it meanwhile
		st.Close()
		return first.(*sql.Stmt), nil
	}
	return st, nil
}

// setUp refuses a newer schema, switches a file to WAL and migrates. The
// version check comes first so that a future file is not even converted to
// WAL: we only read it.
func (s *Store) setUp(ctx context.Context, wal bool) error {
	v, err := userVersion(ctx, s.w)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return tooNew(v, len(migrations))
	}
	if wal {
		var mode string
		if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
			return fmt.Errorf("switching to WAL: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("switching to WAL: journal mode is still %q", mode)
		}
	}
	if _, err := migrate(ctx, s.w, migrations); err != nil {
		return err
	}
	return nil
}

// commonParams are the per-connection settings every connection gets;
// database/sql may open new connections at any time, so they go in the DSN
// rather than in an Exec after Open. synchronous=FULL is the durability
// choice explained in the package comment.
func commonParams() string {
	return fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)", busyTimeoutMS)
}

// dsn builds a SQLite URI for path. A URI rather than a plain name because
// the driver cuts a plain name at its first '?', and a URI can escape it.
func dsn(path, extra string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") { // C:/x on Windows
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: commonParams() + "&" + extra}
	return u.String()
}

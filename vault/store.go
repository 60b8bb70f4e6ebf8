package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout is how long a statement waits for another connection or process holding the
// database lock before it fails. Every write transaction is a handful of rows, so waiting this
// long means something is wrong, not merely busy.
const busyTimeout = 5 * time.Second

// maxConns bounds the connection pool: SQLite allows one writer at a time anyway, and each
// connection holds its own page cache.
const maxConns = 4

// Store is the SQLite file that holds every practice's non-secret metadata. Several processes may
// open the same file at once. A Store is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time
}

// Options adjusts how a Store is opened. The zero value is what [Open] uses.
type Options struct {
	// Now is the clock that stamps CreatedAt and UpdatedAt; nil means time.Now. Tests inject a
	// fixed clock here.
	Now func() time.Time
}

// Open opens the store at path, creating it (and its folder) if needed and bringing its schema up
// to date. See [OpenWithOptions].
func Open(path string) (*Store, error) {
	return OpenWithOptions(path, Options{})
}

// OpenWithOptions opens the store at path like [Open], with opts.
//
// The folder is made 0700 and the file 0600 (tightened if they exist with looser modes), and the
// file is created before SQLite opens it, so it never exists with a looser mode. The database runs
// in WAL mode with a busy timeout and takes the write lock at the start of each write transaction,
// so several processes can share it.
func OpenWithOptions(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("vault: empty token store path: pass vault.DefaultPath() or set %s", EnvTokenStore)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("vault: resolve token store path %q: %w", path, err)
	}
	if err := prepareFiles(abs); err != nil {
		return nil, err
	}

	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("vault: open token store %s: %w", abs, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)

	s := &Store{db: db, path: abs, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	// Opening is bounded by the busy timeout on each statement; no caller context exists yet.
	ctx := context.Background()
	if err := enableWAL(ctx, db); err != nil {
		return nil, errors.Join(explainDamage(abs, fmt.Errorf("vault: prepare token store %s: %w", abs, err)), db.Close())
	}
	if err := migrate(ctx, db); err != nil {
		return nil, errors.Join(explainDamage(abs, fmt.Errorf("vault: prepare token store %s: %w", abs, err)), db.Close())
	}
	// SQLite creates the -wal and -shm files with the database file's mode, but an older run
	// may have left looser ones behind.
	if err := tightenFiles(abs); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// dsn builds the driver's connection string: a file: URI (so that a '?' or '#' in the path is
// escaped rather than taken for a query) carrying the connection settings every connection in
// the pool needs.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:///C:/...
	}
	q := url.Values{}
	// WAL is not set here but once by enableWAL: the journal mode is a property of the file, and
	// switching it as each connection opens fails with SQLITE_BUSY, without waiting, while
	// another process is doing the same.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// BEGIN IMMEDIATE: a write transaction takes the write lock when it starts, so two
	// processes never both read and then fail to upgrade (SQLITE_BUSY that no timeout fixes).
	q.Set("_txlock", "immediate")
	return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
}

// Close closes the database. The Store must not be used afterwards.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("vault: close token store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Generation returns a counter that grows by one in the same transaction as every Save,
// RecordRefresh, SaveSMARTConfig and Delete, by any process. A process that remembers the last
// value can tell with this one cheap query whether it must reload practices.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var g int64
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, s.explain(fmt.Errorf("vault: read generation of %s: %w", s.path, err))
	}
	return g, nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE, see dsn) and bumps the generation in
// that same transaction, so a reader never sees the change without the new generation.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin write transaction (another healow process may hold the store for more than %v): %w", busyTimeout, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE generation SET value = value + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump generation: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ignoreDone drops the error Rollback returns when the transaction already ended (for example
// because its context was cancelled), which adds nothing to the error being returned.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

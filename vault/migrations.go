package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations[i] takes the schema from version i to version i+1; the version is SQLite's
// user_version. Never change a migration that has shipped: append a new one.
var migrations = []string{
	// 1: practices and the generation counter.
	`
CREATE TABLE practices (
	id               TEXT PRIMARY KEY,
	name             TEXT NOT NULL,
	name_key         TEXT NOT NULL,           -- lower(trim(name)), for case-insensitive uniqueness
	fhir_base_url    TEXT NOT NULL,
	patient_id       TEXT NOT NULL,
	scopes           TEXT NOT NULL,           -- JSON list of granted scopes, or null
	token_expiry     TEXT,                    -- RFC 3339 UTC; NULL for the zero time
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL,
	last_refresh     TEXT,
	smart_config     BLOB,                    -- raw JSON of .well-known/smart-configuration
	smart_fetched_at TEXT
) STRICT;
CREATE UNIQUE INDEX practices_name_key ON practices (name_key);
CREATE TABLE generation (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	value INTEGER NOT NULL
) STRICT;
INSERT INTO generation (id, value) VALUES (1, 0);
`,
	// 2: refresh leases, so that only one process at a time spends a practice's refresh token.
	`
CREATE TABLE refresh_leases (
	practice_id TEXT PRIMARY KEY REFERENCES practices (id) ON DELETE CASCADE,
	holder      TEXT NOT NULL,
	expires_at  TEXT NOT NULL              -- RFC 3339 UTC
) STRICT;
`,
	// 3: the last state a running server saw each practice in, for `healow status` when no
	// server runs. Written without bumping the generation: it changes nothing a server serves.
	`
CREATE TABLE practice_states (
	practice_id TEXT PRIMARY KEY REFERENCES practices (id) ON DELETE CASCADE,
	state       TEXT NOT NULL,
	last_error  TEXT NOT NULL,            -- in words, with no token and no patient data
	pid         INTEGER NOT NULL,         -- the healow serve process that saw it
	at          TEXT NOT NULL             -- RFC 3339 UTC
) STRICT;
`,
	// 4: the audit trail, one row per read of patient data. No foreign key: the trail of a
	// practice outlives its disconnection. Never the content, a token or a query value.
	`
CREATE TABLE audit (
	id            INTEGER PRIMARY KEY,
	at            TEXT NOT NULL,          -- fixed-width RFC 3339 UTC, so text order is time order
	pid           INTEGER NOT NULL,
	practice_id   TEXT NOT NULL,
	practice_name TEXT NOT NULL,          -- as it was then, so the row reads well after a disconnect
	tool          TEXT NOT NULL,
	resource_type TEXT NOT NULL,
	resources     INTEGER NOT NULL,       -- how many resources the practice returned
	outcome       TEXT NOT NULL           -- "ok" or an error class such as "http-403"
) STRICT;
CREATE INDEX audit_at ON audit (at);
`,
	// 5: how many records of a read were left out because they were not the connected patient's
	// (or not of the type searched).
	`
ALTER TABLE audit ADD COLUMN withheld INTEGER NOT NULL DEFAULT 0;
`,
	// 6: how each practice was connected: 'mcp' (the connect_practice and complete_oauth tools, which
	// a model calls), 'cli' (healow connect, which a person runs), '' (connected before this was
	// recorded). A practice a model connected is pointed out to the user.
	`
ALTER TABLE practices ADD COLUMN connected_via TEXT NOT NULL DEFAULT '';
`,
	// 7: the requests every process has reserved against a practice's rate limit, per FHIR base
	// URL (eCW counts per base URL, not per connection) and wall-clock minute. No foreign key:
	// two connections may share a base, and a row lapses with its minute anyway.
	`
CREATE TABLE rate_minutes (
	base_url TEXT NOT NULL,
	minute   INTEGER NOT NULL,               -- Unix seconds of the minute's start / 60 (UTC minutes)
	used     INTEGER NOT NULL CHECK (used >= 0),
	PRIMARY KEY (base_url, minute)
) STRICT, WITHOUT ROWID;
`,
	// 8: when the refresh token now in the keychain was issued, since eCW's last 90 days from
	// issue and `healow doctor`, `healow status` and practice_status warn before one runs out.
	// A practice connected before is taken to have got its refresh token when its tokens were
	// last obtained, or when it was connected.
	`
ALTER TABLE practices ADD COLUMN refresh_issued_at TEXT;
UPDATE practices SET refresh_issued_at = COALESCE(last_refresh, created_at);
`,
}

// migrate brings the schema up to date. Each migration runs in its own write transaction that
// re-reads the version after taking the lock, so processes opening a new file at the same time
// apply each migration exactly once, and re-opening an up-to-date file changes nothing.
func migrate(ctx context.Context, db *sql.DB) error {
	v, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if v == len(migrations) {
		return nil // the common case: no write lock needed
	}
	for {
		done, err := migrateOne(ctx, db)
		if err != nil || done {
			return err
		}
	}
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return v, fmt.Errorf("schema version %d is newer than this healow understands (%d): upgrade healow", v, len(migrations))
	}
	return v, nil
}

// migrateOne applies the next pending migration, or reports done when there is none.
func migrateOne(ctx context.Context, db *sql.DB) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil || done {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if v == len(migrations) {
		return true, nil // another process got there first
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("apply migration %d: %w", v+1, err)
	}
	// PRAGMA takes no bound parameters; v+1 is an int we computed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("record schema version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit migration %d: %w", v+1, err)
	}
	return false, nil
}

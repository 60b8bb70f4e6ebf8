package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// walRetryDelay is the pause between attempts to switch the file to WAL.
const walRetryDelay = 10 * time.Millisecond

// enableWAL puts the database file in WAL mode, so that readers never wait for a writer and
// writers wait for each other only briefly. The mode is stored in the file, so this is a no-op
// after the first open; but SQLite fails the switch with SQLITE_BUSY at once, without calling
// the busy handler, while another process holds the file, so it is retried here for up to the
// busy timeout.
//
// If the file system cannot do WAL (some network file systems), SQLite keeps its rollback
// journal. The store still works then, only with less concurrency, so that is not an error.
func enableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil {
			return nil
		}
		if !isBusy(err) || time.Now().After(deadline) {
			return fmt.Errorf("switch to WAL journal mode (another healow process may hold the store): %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("switch to WAL journal mode: %w", context.Cause(ctx))
		case <-time.After(walRetryDelay):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its extended forms.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

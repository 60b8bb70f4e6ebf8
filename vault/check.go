package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlite "modernc.org/sqlite"
)

// ErrDamaged is wrapped by the errors of a store whose file is damaged: SQLite finds its pages
// corrupt (garbage written over them, a disk that failed, a copy cut short), or it is not a
// database at all. Such a store does not heal; the error says what to do.
var ErrDamaged = errors.New("the token store is damaged")

// SQLite's primary result codes for a damaged file.
const (
	sqliteCorrupt = 11 // SQLITE_CORRUPT: "database disk image is malformed"
	sqliteNotADB  = 26 // SQLITE_NOTADB: "file is not a database"
)

// Check runs SQLite's quick integrity check over the whole store: every page and index, which
// the few rows a server reads at start would not reach. A damaged store fails with an error
// wrapping ErrDamaged that names the file and says what to do.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `PRAGMA quick_check(3)`)
	if err != nil {
		return s.explain(fmt.Errorf("vault: check %s: %w", s.path, err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.explain(fmt.Errorf("vault: check %s: %w", s.path, err))
		}
		problems = append(problems, line)
	}
	if err := rows.Err(); err != nil {
		return s.explain(fmt.Errorf("vault: check %s: %w", s.path, err))
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	// The first problem is enough to show the kind of damage; the rest are like it.
	first := strings.Join(problems, "\n")
	for line := range strings.Lines(first) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "***") {
			first = line
			break
		}
	}
	return damaged(s.path, first)
}

// explain turns an error SQLite gives for a damaged file into one that wraps ErrDamaged and says
// what to do; other errors pass unchanged.
func (s *Store) explain(err error) error { return explainDamage(s.path, err) }

func explainDamage(path string, err error) error {
	var se *sqlite.Error
	if err == nil || errors.Is(err, ErrDamaged) || !errors.As(err, &se) {
		return err
	}
	if code := se.Code() & 0xff; code != sqliteCorrupt && code != sqliteNotADB {
		return err
	}
	return damaged(path, se.Error())
}

// damaged says that the store at path is damaged, why in SQLite's words, and what to do.
func damaged(path, detail string) error {
	detail = strings.Join(strings.Fields(detail), " ")
	if len(detail) > 120 {
		detail = detail[:120] + "…"
	}
	return fmt.Errorf("%w: %s fails SQLite's integrity check (%s), so the connected practices cannot be read from it. "+
		"Stop every healow process (quit the MCP client, such as Claude Desktop), move the file out of the way "+
		"(with its -wal and -shm files, if any), then connect each practice again (the connect_practice tool, or `healow connect`). "+
		"The old connections' tokens stay in the OS keychain (service %q, one item per practice id and kind) until you delete them there",
		ErrDamaged, path, detail, Service)
}

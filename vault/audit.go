package vault

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Access is one read of patient data, as the audit trail records it: who asked (process and
// tool), where (practice), for what kind of record and how many came back, and how it ended.
// It never holds the content, a token or the values a search was made with.
type Access struct {
	At           time.Time
	PID          int
	PracticeID   string
	PracticeName string // filled in by RecordAccess from the practice's current name
	Tool         string // the MCP tool, e.g. "search_observation"
	ResourceType string // e.g. "Observation"
	Resources    int    // resources the practice returned and the tool passed on
	Withheld     int    // resources left out as not the connected patient's
	Outcome      string // "ok", or an error class such as "http-403" or "needs-reconnect"
}

// AuditQuery narrows Audit. The zero value returns everything.
type AuditQuery struct {
	Practice string    // a practice id or name (case-insensitive); "" for all
	Since    time.Time // rows at or after this time; zero for all
}

// auditTime is RFC 3339 in UTC with exactly nine fractional digits, so that comparing the text
// compares the times.
const auditTime = "2006-01-02T15:04:05.000000000Z07:00"

// RecordAccess appends rows to the audit trail in one transaction. It does not bump the
// generation. A row's practice name is the one stored for its practice id at the time of
// writing, or empty if the practice is gone.
func (s *Store) RecordAccess(ctx context.Context, rows ...Access) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("vault: record %d access(es): %w", len(rows), err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `
INSERT INTO audit (at, pid, practice_id, practice_name, tool, resource_type, resources, withheld, outcome)
VALUES (?, ?, ?, COALESCE((SELECT name FROM practices WHERE id = ?), ''), ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("vault: record %d access(es): %w", len(rows), err)
	}
	defer stmt.Close()
	for _, a := range rows {
		if _, err := stmt.ExecContext(ctx, a.At.UTC().Format(auditTime), a.PID, a.PracticeID, a.PracticeID,
			a.Tool, a.ResourceType, a.Resources, a.Withheld, a.Outcome); err != nil {
			return fmt.Errorf("vault: record %d access(es): %w", len(rows), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("vault: record %d access(es): %w", len(rows), err)
	}
	return nil
}

// Audit returns the rows q selects, oldest first.
func (s *Store) Audit(ctx context.Context, q AuditQuery) ([]Access, error) {
	query := `SELECT at, pid, practice_id, practice_name, tool, resource_type, resources, withheld, outcome FROM audit WHERE 1 = 1`
	var args []any
	if p := strings.TrimSpace(q.Practice); p != "" {
		query += ` AND (practice_id = ? OR lower(practice_name) = ?)`
		args = append(args, p, nameKey(p))
	}
	if !q.Since.IsZero() {
		query += ` AND at >= ?`
		args = append(args, q.Since.UTC().Format(auditTime))
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("vault: read the audit trail: %w", err)
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		var at string
		if err := rows.Scan(&at, &a.PID, &a.PracticeID, &a.PracticeName, &a.Tool, &a.ResourceType, &a.Resources, &a.Withheld, &a.Outcome); err != nil {
			return nil, fmt.Errorf("vault: read the audit trail: %w", err)
		}
		if a.At, err = decodeTime("at", sql.NullString{String: at, Valid: true}); err != nil {
			return nil, fmt.Errorf("vault: read the audit trail: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: read the audit trail: %w", err)
	}
	return out, nil
}

// PruneAudit deletes the rows older than before and says how many went.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM audit WHERE at < ?`, before.UTC().Format(auditTime))
	if err != nil {
		return 0, fmt.Errorf("vault: prune the audit trail: %w", err)
	}
	return res.RowsAffected()
}

package vault

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KnownState is the last state a running `healow serve` saw a practice in. It lets `healow
// status` say something useful about a practice while no server runs.
type KnownState struct {
	State     string    // a practice.State, or "restarting" / "stopped"
	LastError string    // in words; never a token or patient data (the caller redacts)
	PID       int       // the process that saw it
	At        time.Time // when it saw it
}

// RecordState stores what a server saw of practice id, replacing what was known. It does not
// bump the generation, since it changes nothing a server serves, and a practice removed in the
// meantime is silently skipped.
func (s *Store) RecordState(ctx context.Context, id string, k KnownState) error {
	_, err := s.db.ExecContext(ctx, `
INSERT INTO practice_states (practice_id, state, last_error, pid, at)
SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM practices WHERE id = ?)
ON CONFLICT (practice_id) DO UPDATE SET
	state = excluded.state, last_error = excluded.last_error, pid = excluded.pid, at = excluded.at`,
		id, k.State, k.LastError, k.PID, encodeTime(k.At), id)
	if err != nil {
		return fmt.Errorf("vault: record the state of practice %s: %w", id, err)
	}
	return nil
}

// KnownStates returns the last known state of every practice that has one, by practice id.
func (s *Store) KnownStates(ctx context.Context) (map[string]KnownState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT practice_id, state, last_error, pid, at FROM practice_states`)
	if err != nil {
		return nil, fmt.Errorf("vault: read the known states of practices: %w", err)
	}
	defer rows.Close()
	out := map[string]KnownState{}
	for rows.Next() {
		var (
			id string
			k  KnownState
			at sql.NullString
		)
		if err := rows.Scan(&id, &k.State, &k.LastError, &k.PID, &at); err != nil {
			return nil, fmt.Errorf("vault: read the known states of practices: %w", err)
		}
		if k.At, err = decodeTime("at", at); err != nil {
			return nil, fmt.Errorf("vault: read the known states of practices: %w", err)
		}
		out[id] = k
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("vault: read the known states of practices: %w", err)
	}
	return out, nil
}

package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Reservation is what [Store.ReserveRequests] took from a minute's budget.
type Reservation struct {
	Minute  time.Time // the start of the minute, in UTC
	Granted int       // requests the caller may send in that minute
	Used    int       // requests every process together has reserved in that minute, Granted included
}

// rateKeep is how many minutes of counts stay in the table behind the one being reserved: a
// process whose clock lags a little still finds its minute's count.
const rateKeep = 2

// ReserveRequests takes up to want requests from the budget of limit per wall-clock minute that
// every healow process sharing this store keeps for the FHIR server at base, in the minute that
// holds at (UTC minute boundaries, as eClinicalWorks counts). It returns how many it got, none
// when the minute is spent. The read and the write are one transaction, so two processes never
// take the same request; a process takes small blocks, so that most requests cost no write.
// Requests reserved and not sent simply lapse with their minute.
//
// It does not bump the generation: it changes nothing a server serves.
func (s *Store) ReserveRequests(ctx context.Context, base string, at time.Time, want, limit int) (r Reservation, err error) {
	start := at.UTC().Truncate(time.Minute)
	minute := start.Unix() / 60
	r.Minute = start
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn): the read and the write are one step
	if err != nil {
		return r, fmt.Errorf("vault: reserve requests to %s: %w", base, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("vault: reserve requests to %s: %w", base, err), ignoreDone(tx.Rollback()))
		}
	}()
	var used int
	err = tx.QueryRowContext(ctx, `SELECT used FROM rate_minutes WHERE base_url = ? AND minute = ?`, base, minute).Scan(&used)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, err
	}
	r.Granted = max(min(want, limit-used), 0)
	r.Used = used + r.Granted
	if r.Granted > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rate_minutes (base_url, minute, used) VALUES (?, ?, ?)
ON CONFLICT (base_url, minute) DO UPDATE SET used = excluded.used`, base, minute, r.Used); err != nil {
			return r, err
		}
		if used == 0 { // a new minute: the old ones are of no use to anyone
			if _, err := tx.ExecContext(ctx, `DELETE FROM rate_minutes WHERE minute < ?`, minute-rateKeep); err != nil {
				return r, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return r, err
	}
	return r, nil
}

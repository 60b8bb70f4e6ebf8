package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// leasePoll is how often a process waiting for another's refresh lease looks again.
const leasePoll = 25 * time.Millisecond

// AcquireRefreshLease gives holder the right to spend practice id's refresh token until ttl
// passes or release is called. eCW refresh tokens are single-use, so two processes (Claude
// Desktop's server and another client's) must never refresh the same practice at once: the
// second waits here, and after winning should re-read the keychain, since the first has usually
// refreshed already. A lease whose holder died lapses after ttl. Waiting ends with ctx.
//
// abandoned reports that the lease taken had lapsed in another holder's hands: that process
// stopped while refreshing, perhaps after the practice had used up the refresh token.
//
// Leases do not bump the generation: they change no practice.
func (s *Store) AcquireRefreshLease(ctx context.Context, id, holder string, ttl time.Duration) (release func(), abandoned bool, err error) {
	for {
		ok, abandoned, err := s.tryLease(ctx, id, holder, ttl)
		if err != nil {
			return nil, false, fmt.Errorf("vault: refresh lease of practice %s: %w", id, err)
		}
		if ok {
			return func() { s.releaseLease(id, holder) }, abandoned, nil
		}
		t := time.NewTimer(leasePoll + rand.N(leasePoll))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, false, fmt.Errorf("vault: waiting for another healow process to finish refreshing practice %s: %w", id, ctx.Err())
		}
	}
}

func (s *Store) tryLease(ctx context.Context, id, holder string, ttl time.Duration) (ok, abandoned bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn): the read and the write are one step
	if err != nil {
		return false, false, err
	}
	defer func() {
		if !ok || err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	now := s.now()
	var other string
	var until sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT holder, expires_at FROM refresh_leases WHERE practice_id = ?`, id).Scan(&other, &until)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, false, err
	default:
		exp, err := decodeTime("expires_at", until)
		if err != nil {
			return false, false, err
		}
		if other != holder && now.Before(exp) {
			return false, false, nil
		}
		abandoned = other != holder
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO refresh_leases (practice_id, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (practice_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`,
		id, holder, encodeTime(now.Add(ttl)))
	if err != nil {
		var count int
		if s.db.QueryRowContext(ctx, `SELECT count(*) FROM practices WHERE id = ?`, id).Scan(&count) == nil && count == 0 {
			return false, false, fmt.Errorf("%w: no practice has id %q", ErrNotFound, id)
		}
		return false, false, err
	}
	if err := tx.Commit(); err != nil {
		return false, false, err
	}
	return true, abandoned, nil
}

// ErrLeaseLost is returned by [Store.RenewRefreshLease] when the holder no longer holds the lease:
// it lapsed and another process took it.
var ErrLeaseLost = errors.New("the refresh lease was lost to another process")

// RenewRefreshLease extends holder's lease on practice id's refresh token to ttl from now, so that
// a refresh slower than ttl keeps it: a holder renews while its token request is out, and the
// lease lapses ttl after a holder that died stopped renewing. It fails with ErrLeaseLost when
// holder no longer holds the lease.
func (s *Store) RenewRefreshLease(ctx context.Context, id, holder string, ttl time.Duration) error {
	res, err := s.db.ExecContext(ctx, `UPDATE refresh_leases SET expires_at = ? WHERE practice_id = ? AND holder = ?`,
		encodeTime(s.now().Add(ttl)), id, holder)
	if err != nil {
		return fmt.Errorf("vault: renew the refresh lease of practice %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("vault: renew the refresh lease of practice %s: %w", id, errors.Join(ErrLeaseLost, err))
	}
	return nil
}

// releaseLease gives the lease up early. It uses its own short deadline: it runs after the
// refresh, whose context may be gone, and a lease left behind only costs the next holder ttl.
func (s *Store) releaseLease(id, holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), busyTimeout)
	defer cancel()
	_, _ = s.db.ExecContext(ctx, `DELETE FROM refresh_leases WHERE practice_id = ? AND holder = ?`, id, holder)
}

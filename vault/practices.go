package vault

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The columns of a practice, in the order scanPractice reads them.
const practiceColumns = `id, name, fhir_base_url, patient_id, scopes, token_expiry,
	created_at, updated_at, last_refresh, smart_config, smart_fetched_at, connected_via, refresh_issued_at`

// Save inserts p, or updates the practice with p's ID. It sets CreatedAt on insert and UpdatedAt
// always, from the store's clock; the CreatedAt of an existing practice is kept. Every other
// field is written as given, so a caller that changes only the token columns should use
// RecordRefresh instead, which cannot clobber another process's changes. A name that another
// practice already has (case-insensitively) fails with ErrNameTaken.
func (s *Store) Save(ctx context.Context, p Practice) error {
	if err := checkPractice(p); err != nil {
		return err
	}
	scopes, err := encodeScopes(p.Scopes)
	if err != nil {
		return fmt.Errorf("vault: save practice %s: %w", p.ID, err)
	}
	now := encodeTime(s.now())
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Checked inside the write transaction, so no other process can take the name between
		// the check and the insert; the unique index is the backstop.
		var other string
		err := tx.QueryRowContext(ctx,
			`SELECT id FROM practices WHERE name_key = ? AND id <> ?`, nameKey(p.Name), p.ID).Scan(&other)
		switch {
		case err == nil:
			return fmt.Errorf("%w: %q is the name of practice %s; choose another name or disconnect that practice first",
				ErrNameTaken, p.Name, other)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("check name: %w", err)
		}
		_, err = tx.ExecContext(ctx, `
INSERT INTO practices (`+practiceColumns+`, name_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	name = excluded.name,
	name_key = excluded.name_key,
	fhir_base_url = excluded.fhir_base_url,
	patient_id = excluded.patient_id,
	scopes = excluded.scopes,
	token_expiry = excluded.token_expiry,
	updated_at = excluded.updated_at,
	last_refresh = excluded.last_refresh,
	smart_config = excluded.smart_config,
	smart_fetched_at = excluded.smart_fetched_at,
	connected_via = excluded.connected_via,
	refresh_issued_at = excluded.refresh_issued_at`,
			p.ID, p.Name, p.FHIRBaseURL, p.PatientID, scopes, encodeTime(p.TokenExpiry),
			now, now, encodeTime(p.LastRefresh), nullBytes(p.SMARTConfig), encodeTime(p.SMARTFetchedAt),
			p.ConnectedVia, encodeTime(p.RefreshIssuedAt), nameKey(p.Name))
		if err != nil {
			return fmt.Errorf("write row: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("vault: save practice %s: %w", p.ID, err)
	}
	return nil
}

// checkPractice rejects a practice that could not be found again or would break an invariant
// other code relies on.
func checkPractice(p Practice) error {
	if !ValidID(p.ID) {
		return fmt.Errorf("vault: invalid practice id %q: want \"pr_\" and 10 lowercase base32 characters, as vault.NewID makes", p.ID)
	}
	if nameKey(p.Name) == "" {
		return fmt.Errorf("vault: practice %s has no name: give it one (such as the practice's name) to refer to it by", p.ID)
	}
	switch p.ConnectedVia {
	case "", ViaMCP, ViaCLI:
	default:
		return fmt.Errorf("vault: practice %s: connected via %q, want %q, %q or nothing", p.ID, p.ConnectedVia, ViaMCP, ViaCLI)
	}
	return checkSMARTConfig(p.SMARTConfig)
}

// Get returns the practice with the given id, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Practice, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+practiceColumns+` FROM practices WHERE id = ?`, id)
	p, err := scanPractice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Practice{}, fmt.Errorf("%w: no practice has id %q", ErrNotFound, id)
	}
	if err != nil {
		return Practice{}, fmt.Errorf("vault: read practice %s: %w", id, err)
	}
	return p, nil
}

// GetByName returns the practice with the given name, compared case-insensitively, or an error
// wrapping ErrNotFound.
func (s *Store) GetByName(ctx context.Context, name string) (Practice, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+practiceColumns+` FROM practices WHERE name_key = ?`, nameKey(name))
	p, err := scanPractice(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Practice{}, fmt.Errorf("%w: no practice is named %q", ErrNotFound, name)
	}
	if err != nil {
		return Practice{}, fmt.Errorf("vault: read practice named %q: %w", name, err)
	}
	return p, nil
}

// List returns every practice, ordered by name (case-insensitively).
func (s *Store) List(ctx context.Context) ([]Practice, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+practiceColumns+` FROM practices ORDER BY name_key, id`)
	if err != nil {
		return nil, s.explain(fmt.Errorf("vault: list practices: %w", err))
	}
	defer rows.Close()
	var ps []Practice
	for rows.Next() {
		p, err := scanPractice(rows)
		if err != nil {
			return nil, s.explain(fmt.Errorf("vault: list practices: %w", err))
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.explain(fmt.Errorf("vault: list practices: %w", err))
	}
	return ps, nil
}

// Delete removes the practice's metadata, or returns an error wrapping ErrNotFound. Its secrets
// are the caller's to delete from Secrets.
func (s *Store) Delete(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM practices WHERE id = ?`, id)
		return oneRow(res, err, id)
	})
	if err != nil {
		return fmt.Errorf("vault: delete practice %s: %w", id, err)
	}
	return nil
}

// RecordRefresh records a token refresh: the new access token expiry, the granted scopes and
// when it happened. It updates only those columns, so a concurrent writer's other columns are
// not clobbered. A nil scopes keeps the stored scopes, because a token response may omit the
// scope when it is unchanged (RFC 6749 §5.1); a non-nil empty slice stores an empty list.
func (s *Store) RecordRefresh(ctx context.Context, id string, expiry time.Time, scopes []string, at time.Time) error {
	return s.recordRefresh(ctx, id, expiry, scopes, at, false)
}

// RecordRotatedRefresh is RecordRefresh for a refresh that also issued a new refresh token: it
// records at as RefreshIssuedAt too.
func (s *Store) RecordRotatedRefresh(ctx context.Context, id string, expiry time.Time, scopes []string, at time.Time) error {
	return s.recordRefresh(ctx, id, expiry, scopes, at, true)
}

func (s *Store) recordRefresh(ctx context.Context, id string, expiry time.Time, scopes []string, at time.Time, rotated bool) error {
	set, args := `token_expiry = ?, last_refresh = ?`, []any{encodeTime(expiry), encodeTime(at)}
	if scopes != nil {
		enc, err := encodeScopes(scopes)
		if err != nil {
			return fmt.Errorf("vault: record token refresh of practice %s: %w", id, err)
		}
		set, args = set+`, scopes = ?`, append(args, enc)
	}
	if rotated {
		set, args = set+`, refresh_issued_at = ?`, append(args, encodeTime(at))
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE practices SET `+set+` WHERE id = ?`, append(args, id)...)
		return oneRow(res, err, id)
	})
	if err != nil {
		return fmt.Errorf("vault: record token refresh of practice %s: %w", id, err)
	}
	return nil
}

// SaveSMARTConfig caches the practice's raw .well-known/smart-configuration JSON and when it was
// fetched. It updates only those columns.
func (s *Store) SaveSMARTConfig(ctx context.Context, id string, raw []byte, fetchedAt time.Time) error {
	if err := checkSMARTConfig(raw); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE practices SET smart_config = ?, smart_fetched_at = ? WHERE id = ?`,
			nullBytes(raw), encodeTime(fetchedAt), id)
		return oneRow(res, err, id)
	})
	if err != nil {
		return fmt.Errorf("vault: cache SMART configuration of practice %s: %w", id, err)
	}
	return nil
}

// oneRow turns the result of a statement that must touch exactly the practice id into an error:
// ErrNotFound when it touched none. Returning an error also rolls back the generation bump.
func oneRow(res sql.Result, err error, id string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: no practice has id %q", ErrNotFound, id)
	}
	return nil
}

// nullBytes stores nil as NULL, so a practice without a cached configuration reads back nil.
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

type scanner interface {
	Scan(dest ...any) error
}

func scanPractice(sc scanner) (Practice, error) {
	var (
		p                                   Practice
		scopes                              string
		expiry, created, updated, refreshed sql.NullString
		fetched, refreshIssued              sql.NullString
	)
	if err := sc.Scan(&p.ID, &p.Name, &p.FHIRBaseURL, &p.PatientID, &scopes, &expiry,
		&created, &updated, &refreshed, &p.SMARTConfig, &fetched, &p.ConnectedVia, &refreshIssued); err != nil {
		return Practice{}, err
	}
	var err error
	if p.Scopes, err = decodeScopes(scopes); err != nil {
		return Practice{}, err
	}
	for _, f := range []struct {
		column string
		src    sql.NullString
		dst    *time.Time
	}{
		{"token_expiry", expiry, &p.TokenExpiry},
		{"created_at", created, &p.CreatedAt},
		{"updated_at", updated, &p.UpdatedAt},
		{"last_refresh", refreshed, &p.LastRefresh},
		{"smart_fetched_at", fetched, &p.SMARTFetchedAt},
		{"refresh_issued_at", refreshIssued, &p.RefreshIssuedAt},
	} {
		if *f.dst, err = decodeTime(f.column, f.src); err != nil {
			return Practice{}, err
		}
	}
	return p, nil
}

package vault

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A store from before refresh_issued_at takes each practice's refresh token to be as old as its
// last tokens (or, never refreshed, its connection), so the 90-day warning works for it at once.
func TestRefreshIssuedMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "refresh_issued_at") })
	for v, m := range migrations[:before] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, before)); err != nil {
		t.Fatal(err)
	}
	refreshed, never := NewID(), NewID()
	for _, row := range []struct {
		id, name, lastRefresh any
	}{{refreshed, "Refreshed", "2026-02-01T10:00:00Z"}, {never, "Never", nil}} {
		if _, err := db.Exec(`INSERT INTO practices (id, name, name_key, fhir_base_url, patient_id, scopes, created_at, updated_at, last_refresh)
			VALUES (?, ?, lower(?), 'https://fhir4.healow.com/fhir/r4/FEIGCD', 'p', 'null', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ?)`,
			row.id, row.name, row.name, row.lastRefresh); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStoreAt(t, path, nil)
	for id, want := range map[string]time.Time{
		refreshed: time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
		never:     time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := s.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RefreshIssuedAt.Equal(want) {
			t.Errorf("%s: refresh issued %v, want %v", got.Name, got.RefreshIssuedAt, want)
		}
	}
}

// A refresh that rotated the refresh token moves its issue time; one that kept the old token
// does not.
func TestRecordRotatedRefresh(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, newFakeClock())
	ctx := t.Context()
	p := samplePractice("Sunrise")
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	kept := p.RefreshIssuedAt.Add(time.Hour)
	if err := s.RecordRefresh(ctx, p.ID, kept.Add(time.Hour), nil, kept); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, p.ID)
	if !got.RefreshIssuedAt.Equal(p.RefreshIssuedAt) || !got.LastRefresh.Equal(kept) {
		t.Fatalf("after a refresh that kept the token: issued %v, last refresh %v", got.RefreshIssuedAt, got.LastRefresh)
	}
	rotated := kept.Add(time.Hour)
	if err := s.RecordRotatedRefresh(ctx, p.ID, rotated.Add(time.Hour), []string{"openid"}, rotated); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, p.ID)
	if !got.RefreshIssuedAt.Equal(rotated) || !got.LastRefresh.Equal(rotated) || !slices.Equal(got.Scopes, []string{"openid"}) {
		t.Fatalf("after a rotation: issued %v, last refresh %v, scopes %v", got.RefreshIssuedAt, got.LastRefresh, got.Scopes)
	}
}

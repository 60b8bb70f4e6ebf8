package vault

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReopenIsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	p := samplePractice("Acme")
	for i := range 3 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if v := userVersion(t, s.db); v != len(migrations) {
			t.Errorf("open #%d: user_version = %d, want %d", i+1, v, len(migrations))
		}
		if i == 0 {
			if err := s.Save(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Get(t.Context(), p.ID); err != nil || got.Name != p.Name {
			t.Errorf("open #%d: Get = %+v, %v; want the practice saved by the first", i+1, got, err)
		}
		if g, err := s.Generation(t.Context()); err != nil || g != 1 {
			t.Errorf("open #%d: Generation = %d, %v; reopening must not change it", i+1, g, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// What a future healow with one more migration would leave behind.
	if _, err := s.db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), "upgrade healow") {
		t.Errorf("err = %v, want it to say to upgrade healow", err)
	}
}

func TestConnectionSettings(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	// Hold several connections at once so the check covers more than one pooled connection.
	conns := make([]*sql.Conn, maxConns)
	for i := range conns {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		settings := []struct {
			pragma string
			want   string
		}{
			{"journal_mode", "wal"},
			{"busy_timeout", "5000"},
			{"foreign_keys", "1"},
		}
		for _, st := range settings {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+st.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, st.pragma, got, st.want)
			}
		}
	}
}

// TestConcurrentOpenOfNewFile has several openers race to create and migrate one new file, as
// several healow processes starting together would. The migration inserts the generation row,
// so applying it twice would fail.
func TestConcurrentOpenOfNewFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "tokens.db")
	const openers = 6
	stores := make([]*Store, openers)
	errs := make([]error, openers)
	var wg sync.WaitGroup
	for i := range openers {
		wg.Go(func() { stores[i], errs[i] = Open(path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("opener %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var rows int
	if err := stores[0].db.QueryRow(`SELECT count(*) FROM generation`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("generation has %d rows, want 1", rows)
	}
	if v := userVersion(t, stores[0].db); v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
}

// A store written before connected_via was added keeps its practices, which read as connected by an unknown
// path; from then on how a practice is connected is stored, and a value other than the two
// paths is refused.
func TestConnectedViaMigration(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "connected_via") })
	for v, m := range migrations[:before] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", v+1, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, before)); err != nil {
		t.Fatal(err)
	}
	old := NewID()
	if _, err := db.Exec(`INSERT INTO practices (id, name, name_key, fhir_base_url, patient_id, scopes, created_at, updated_at)
		VALUES (?, 'Old', 'old', 'https://fhir4.healow.com/fhir/r4/FEIGCD', 'p', 'null', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`, old); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v := userVersion(t, s.db); v != len(migrations) {
		t.Fatalf("user_version = %d, want %d", v, len(migrations))
	}
	got, err := s.Get(t.Context(), old)
	if err != nil || got.Name != "Old" || got.ConnectedVia != "" {
		t.Fatalf("the old practice: %+v, %v", got, err)
	}
	for _, via := range []string{ViaMCP, ViaCLI} {
		p := samplePractice("New " + via)
		p.ConnectedVia = via
		if err := s.Save(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(t.Context(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ConnectedVia != via {
			t.Fatalf("connected via %q, want %q", got.ConnectedVia, via)
		}
	}
	p := samplePractice("Bad")
	p.ConnectedVia = "browser"
	if err := s.Save(t.Context(), p); err == nil {
		t.Fatal("saved a practice connected via an unknown path")
	}
}

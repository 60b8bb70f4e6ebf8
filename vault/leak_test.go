package vault

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// TestNoSecretReachesTheDatabase stores tokens in Memory and everything else in a Store, the way
// the practice actor does, then searches the raw bytes of the database and its WAL for the
// tokens.
func TestNoSecretReachesTheDatabase(t *testing.T) {
	t.Parallel()
	secrets := NewMemory()
	s := openTestStore(t, nil)
	ctx := t.Context()

	for _, name := range []string{"Acme", "Riverside", "Lakeside"} {
		p := samplePractice(name)
		access := "eyJhbGciOiJSUzI1NiJ9.ACCESS-" + p.ID + ".c2lnbmF0dXJl"
		refresh := "REFRESH-" + p.ID + "-8f14e45fceea167a5a36dedd4bea2543"
		if err := secrets.Set(p.ID, AccessToken, access); err != nil {
			t.Fatal(err)
		}
		if err := secrets.Set(p.ID, RefreshToken, refresh); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := s.RecordRefresh(ctx, p.ID, now.Add(time.Hour), []string{"openid", "offline_access"}, now); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSMARTConfig(ctx, p.ID, []byte(`{"token_endpoint":"https://example.test/token"}`), now); err != nil {
			t.Fatal(err)
		}
	}

	snap := secrets.Snapshot()
	if len(snap) != 6 {
		t.Fatalf("Snapshot has %d secrets, want 6", len(snap))
	}
	check := func(stage string) {
		t.Helper()
		searched := 0
		for _, f := range []string{s.Path(), s.Path() + "-wal"} {
			raw, err := os.ReadFile(f)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			searched += len(raw)
			for key, secret := range snap {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%s: %s holds the secret %s", stage, f, key)
				}
			}
		}
		if searched == 0 {
			t.Fatalf("%s: found no database bytes to search", stage)
		}
	}
	// Before a checkpoint the rows are in the WAL; after it, in the main file.
	check("before checkpoint")
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	check("after checkpoint")

	// The search must be able to find something, or it proves nothing: the practice names are
	// in the file.
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("Riverside")) {
		t.Error("the database does not contain a practice name; the search above is not looking at the data")
	}
}

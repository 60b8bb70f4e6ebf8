package practice

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/vault"
)

// keptSecrets remembers every value ever stored through it.
type keptSecrets struct {
	vault.Secrets
	mu   sync.Mutex
	seen []string
}

func (k *keptSecrets) Set(id string, kind vault.SecretKind, v string) error {
	k.mu.Lock()
	k.seen = append(k.seen, v)
	k.mu.Unlock()
	return k.Secrets.Set(id, kind, v)
}

func (k *keptSecrets) all() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.seen...)
}

// The token store never holds a secret: not after connect, not after many refreshes, not after
// the practice is removed, in the database file or beside it (-wal, -shm). Every write since the
// last checkpoint is in the WAL and every earlier one in the file, so together they are all of
// it.
func TestStoreHoldsNoSecretThroughRefreshesAndRemoval(t *testing.T) {
	t.Parallel()
	clock := newClock()
	w := newWorld(t, sandbox.Options{}, clock)
	kept := &keptSecrets{Secrets: w.secrets}
	w.secrets, w.opts.Secrets = kept, kept
	rec := &wire{next: w.opts.HTTP.Transport}
	w.opts.HTTP.Transport = rec
	id, p := w.connect(t, 0)
	a := w.serve(t, id, nil)
	ctx := context.Background()

	const refreshes = 25
	for range refreshes {
		clock.Advance(2 * time.Hour) // past the access token's hour
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := a.Health(ctx); h.RefreshCount < refreshes {
		t.Fatalf("%d refreshes, want %d", h.RefreshCount, refreshes)
	}
	secrets := kept.all()
	for _, r := range rec.requests() {
		form, _ := url.ParseQuery(r.body)
		for _, k := range []string{"code", "code_verifier"} {
			if v := form.Get(k); v != "" {
				secrets = append(secrets, v)
			}
		}
	}
	secrets = append(secrets, sandbox.DefaultClient().Secret)
	if len(secrets) < 2*refreshes+4 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}

	files := []string{w.store.Path(), w.store.Path() + "-wal", w.store.Path() + "-shm"}
	check := func(stage string) {
		t.Helper()
		searched := 0
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			searched += len(raw)
			for _, s := range secrets {
				if bytes.Contains(raw, []byte(s)) {
					t.Fatalf("%s: %s holds a secret", stage, f)
				}
			}
		}
		if searched == 0 {
			t.Fatalf("%s: no store bytes to search", stage)
		}
	}
	check("after connect and refreshes")
	raw, _ := os.ReadFile(w.store.Path())
	wal, _ := os.ReadFile(w.store.Path() + "-wal")
	if !bytes.Contains(append(raw, wal...), []byte(p.BaseURL)) {
		t.Fatal("the store does not hold the practice's base URL: the search is not looking at the data")
	}

	if err := w.store.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		if err := w.secrets.Delete(id, kind); err != nil {
			t.Fatal(err)
		}
		if v, err := w.secrets.Get(id, kind); err == nil {
			t.Fatalf("%s outlived the removal: %d bytes", kind, len(v))
		}
	}
	check("after removal")
}

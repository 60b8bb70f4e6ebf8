package vault_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/vault"
)

// A store with garbage over its pages opens (its header and schema are whole) but fails Check,
// and the reads a server makes, with ErrDamaged and an error that names the file and says what
// to do; one with garbage over its header does not even open, and says the same.
func TestDamagedStoreSaysWhereAndWhatToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	advice := func(t *testing.T, err error, path string) {
		t.Helper()
		if !errors.Is(err, vault.ErrDamaged) {
			t.Fatalf("err = %v, want ErrDamaged", err)
		}
		for _, want := range []string{path, "damaged", "move", "healow connect", "keychain"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("the error does not say %q: %v", want, err)
			}
		}
	}

	whole := testenv.ClosedStore(t, "Sunrise", "Lakeside", "Hillcrest")
	s, err := vault.Open(whole)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("a whole store fails its check: %v", err)
	}
	s.Close()

	pages := testenv.ClosedStore(t, "Sunrise", "Lakeside", "Hillcrest")
	testenv.DamageStore(t, pages, 2)
	s, err = vault.Open(pages)
	if err != nil {
		t.Fatalf("a store with its header whole did not open: %v", err)
	}
	defer s.Close()
	advice(t, s.Check(ctx), pages)
	_, err = s.List(ctx)
	advice(t, err, pages)
	_, err = s.Generation(ctx)
	advice(t, err, pages)

	header := testenv.ClosedStore(t, "Sunrise", "Lakeside", "Hillcrest")
	testenv.DamageStore(t, header, 1)
	_, err = vault.Open(header)
	advice(t, err, header)
}

package testenv

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// ClosedStore makes a store in a temporary folder holding a practice of each name, closes it and
// returns its path, for a test to damage, open or hand to a process.
func ClosedStore(t testing.TB, names ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.db")
	s, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		p := vault.Practice{ID: vault.NewID(), Name: name, FHIRBaseURL: "https://fhir.example/fhir/r4/" + name, PatientID: "p",
			TokenExpiry: time.Now().Add(time.Hour)}
		if err := s.Save(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// DamageStore writes garbage over the SQLite file at path from page from (1 is the first, with
// the header and the schema) to its end, as a failing disk or a careless tool would. Every handle
// on the file must be closed first, so that nothing is left in a write-ahead log.
func DamageStore(t testing.TB, path string, from int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 {
		t.Fatalf("%s is not a SQLite file", path)
	}
	pageSize := int(binary.BigEndian.Uint16(b[16:18]))
	if pageSize == 1 {
		pageSize = 1 << 16
	}
	start := (from - 1) * pageSize
	if start >= len(b) {
		t.Fatalf("%s has no page %d", path, from)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := start; i < len(b); i++ {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/vault"
)

// ageRefreshToken records that the stored practice's refresh token was issued at issued and has
// not been rotated since.
func ageRefreshToken(t *testing.T, store *vault.Store, id string, issued time.Time) {
	t.Helper()
	p, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	p.RefreshIssuedAt = issued
	if err := store.Save(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// A refresh token that runs out within 14 days is pointed out, with how to renew it, by a
// running server's practice and by a stored one no server runs; it is no failure: the practice
// still answers, and the exit status stays 0.
func TestStatusWarnsOfAnExpiringRefreshToken(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	dir := filepath.Join(t.TempDir(), "run")
	env := testenv.Start(t, testenv.Options{StatusDir: dir, Clock: clock})
	p := env.Sandbox.Practices()[0]
	id := env.Connect(t, p).ID
	ageRefreshToken(t, env.Store, id, clock.Now().Add(-80*24*time.Hour))
	env.Actor(t, id)

	var out bytes.Buffer
	s := statusRun{store: env.Store, dir: dir, out: &out, now: clock.Now}
	code, err := s.once(context.Background())
	if err != nil || code != statusHealthy {
		t.Fatalf("code %d, %v:\n%s", code, err, out.String())
	}
	want := p.Name + ` (pid `
	advice := out.String()[strings.Index(out.String(), "What to do:")+1:]
	if !strings.Contains(advice, want) || !strings.Contains(advice, "refresh token expires in 10 days") ||
		!strings.Contains(advice, `healow connect --name "`+p.Name+`"`) {
		t.Fatalf("status does not say the refresh token expires soon and how to renew it:\n%s", out.String())
	}

	out.Reset()
	s.json = true
	if _, err := s.once(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r statusReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Servers) != 1 || len(r.Servers[0].Practices) != 1 {
		t.Fatalf("%v: %s", err, out.String())
	}
	got := r.Servers[0].Practices[0]
	if !got.Healthy || !strings.Contains(got.Warning, "10 days") || !got.RefreshTokenExpiry.Equal(clock.Now().Add(10*24*time.Hour)) {
		t.Fatalf("the practice's status: healthy %v, warning %q, refresh token expiry %v", got.Healthy, got.Warning, got.RefreshTokenExpiry)
	}

	// From the store alone, when no server runs: the same warning, for the not-running row.
	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	stored := vault.Practice{ID: vault.NewID(), Name: "Lakeside", FHIRBaseURL: "https://fhir4.healow.com/fhir/r4/ABCDEF", PatientID: "p1",
		RefreshIssuedAt: clock.Now().Add(-89*24*time.Hour - 12*time.Hour)}
	if err := store.Save(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s = statusRun{store: store, dir: t.TempDir(), out: &out, now: clock.Now}
	if code, err := s.once(context.Background()); err != nil || code != statusNoServer {
		t.Fatalf("code %d, %v", code, err)
	}
	if !strings.Contains(out.String(), `Lakeside (not running): its refresh token expires within a day`) {
		t.Fatalf("status of a stored practice:\n%s", out.String())
	}
}

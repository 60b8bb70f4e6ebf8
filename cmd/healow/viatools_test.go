package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// healow status and healow practices point out the practices the MCP tools connected, with their
// FHIR base and where their tokens go, whether a server runs them or not; practices connected
// with healow connect are not singled out.
func TestStatusShowsWhatTheToolsConnected(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	env := testenv.Start(t, testenv.Options{StatusDir: dir})
	ps := env.Sandbox.Practices()
	ctx := context.Background()
	auth, err := env.Tree.Registry.BeginConnect(ctx, ps[0].Name, ps[0].BaseURL) // what connect_practice does
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := env.Sandbox.Consent(ctx, auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	byTools, err := env.Tree.Registry.CompleteConnect(ctx, redirect, "") // and complete_oauth
	if err != nil {
		t.Fatal(err)
	}
	byCLI := env.Connect(t, ps[1])
	env.Actor(t, byCLI.ID)
	tokenHost := strings.TrimPrefix(env.Sandbox.URL(), "https://")
	scrub := scrubber{}.with(version.String(), "<version>").with(byTools.ID, "<tools' id>").with(byCLI.ID, "<healow connect's id>").with(dir, "<run>").
		with(strconv.Itoa(os.Getpid()), "<pid>").with(tokenHost, "<sandbox>")

	var out bytes.Buffer
	s := statusRun{store: env.Store, dir: dir, out: &out, now: time.Now}
	step(t, "status", func(t *testing.T) {
		out.Reset()
		if _, err := s.once(ctx); err != nil {
			t.Fatal(err)
		}
		_, section, _ := strings.Cut(out.String(), "Connected through the MCP tools")
		if !strings.Contains(section, ps[0].Name) || !strings.Contains(section, "→ "+ps[0].BaseURL) ||
			!strings.Contains(section, "token endpoint on "+tokenHost) || strings.Contains(section, ps[1].Name) {
			t.Fatalf("status does not point out (only) %q:\n%s", ps[0].Name, out.String())
		}
		testenv.Golden(t, "testdata/status-via-tools.golden", []byte(scrub.table(out.String())))
	})

	step(t, "status --json", func(t *testing.T) {
		out.Reset()
		s.json = true
		if _, err := s.once(ctx); err != nil {
			t.Fatal(err)
		}
		var r statusReport
		if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Servers) != 1 {
			t.Fatalf("%v: %s", err, out.String())
		}
		via := map[string]status.Practice{}
		for _, p := range r.Servers[0].Practices {
			via[p.ID] = p
		}
		if p := via[byTools.ID]; p.ConnectedVia != vault.ViaMCP || p.TokenHost != tokenHost {
			t.Fatalf("--json for the tools' practice: %+v", p)
		}
		if p := via[byCLI.ID]; p.ConnectedVia != vault.ViaCLI {
			t.Fatalf("--json for healow connect's practice: %+v", p)
		}
	})

	step(t, "status with no server, from the store", func(t *testing.T) {
		out.Reset()
		s := statusRun{store: env.Store, dir: t.TempDir(), out: &out, now: time.Now}
		if _, err := s.once(ctx); err != nil {
			t.Fatal(err)
		}
		if _, section, _ := strings.Cut(out.String(), "Connected through the MCP tools"); !strings.Contains(section, ps[0].Name) ||
			!strings.Contains(section, "token endpoint on "+tokenHost) {
			t.Fatalf("status with no server:\n%s", out.String())
		}
	})

	// healow practices marks it too.
	stored, err := env.Store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	step(t, "practices", func(t *testing.T) {
		out.Reset()
		if err := listPractices(&out, stored, false, time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			switch {
			case strings.HasPrefix(line, ps[0].Name+" "):
				if !strings.Contains(line, "MCP tools") || !strings.Contains(line, tokenHost) {
					t.Fatalf("practices row %q", line)
				}
			case strings.HasPrefix(line, ps[1].Name+" "):
				if !strings.Contains(line, "healow connect") {
					t.Fatalf("practices row %q", line)
				}
			}
		}
		if !strings.Contains(out.String(), "a model asked for them") {
			t.Fatalf("practices:\n%s", out.String())
		}
		testenv.Golden(t, "testdata/practices-via-tools.golden", []byte(scrub.table(out.String())))
	})
	step(t, "practices --json", func(t *testing.T) {
		out.Reset()
		listPractices(&out, stored, true, time.Now())
		var rows []practiceRow
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 2 {
			t.Fatalf("%v: %s", err, out.String())
		}
		for _, row := range rows {
			if want := map[string]string{byTools.ID: vault.ViaMCP, byCLI.ID: vault.ViaCLI}[row.ID]; row.ConnectedVia != want || row.TokenHost != tokenHost {
				t.Fatalf("practices --json row %+v", row)
			}
		}
		testenv.Golden(t, "testdata/practices-via-tools.json.golden", []byte(scrub.scrub(out.String())))
	})
}

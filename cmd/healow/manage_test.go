package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/vault"
)

func TestPracticesCommand(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.Local) // the table shows local times
	ps := []vault.Practice{{ID: "pr_aaaaaaaaaa", Name: "Sunrise", FHIRBaseURL: "https://fhir.example/r4/ABCDEF", PatientID: "p-1",
		Scopes: []string{"openid", "patient/Patient.rs"}, TokenExpiry: now.Add(time.Hour), CreatedAt: now.Add(-48 * time.Hour)}}
	var out bytes.Buffer
	if err := listPractices(&out, ps, false, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "Sunrise", "pr_aaaaaaaaaa", "https://fhir.example/r4/ABCDEF", "p-1", "(1h)", "--json lists the scopes"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("practices lacks %q:\n%s", want, out.String())
		}
	}
	testenv.Golden(t, "testdata/practices.golden", out.Bytes())
	out.Reset()
	if err := listPractices(&out, ps, true, now); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "testdata/practices.json.golden", []byte(scrubber{}.scrub(out.String()))) // times carry the zone's offset
	var rows []practiceRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 || len(rows[0].Scopes) != 2 || !rows[0].Connected.Equal(now.Add(-48*time.Hour)) {
		t.Fatalf("json: %v %+v", err, rows)
	}
	out.Reset()
	listPractices(&out, nil, true, now)
	if strings.TrimSpace(out.String()) != "[]" {
		t.Fatalf("no practices: %q", out.String())
	}
}

func TestAuditCommand(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 14, 15, 0, 0, 0, time.Local)
	rows := []vault.Access{
		{At: at, PID: 41, PracticeID: "pr_aaaaaaaaaa", PracticeName: "Sunrise", Tool: "search_observation", ResourceType: "Observation", Resources: 20, Outcome: "ok"},
		{At: at, PID: 41, PracticeID: "pr_bbbbbbbbbb", Tool: "get_patient", ResourceType: "Patient", Outcome: "http-429"},
	}
	var out bytes.Buffer
	if err := listAudit(&out, rows, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TIME", "2026-03-14 15:00:00", "Sunrise", "search_observation", "Observation", "20", "pr_bbbbbbbbbb", "http-429"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("audit lacks %q:\n%s", want, out.String())
		}
	}
	testenv.Golden(t, "testdata/audit.golden", out.Bytes())
	out.Reset()
	listAudit(&out, rows, true)
	testenv.Golden(t, "testdata/audit.json.golden", []byte(scrubber{}.scrub(out.String())))
	var got []auditRow
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 || got[0].Resources != 20 || got[1].Outcome != "http-429" {
		t.Fatalf("json: %v %+v", err, got)
	}
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute, "1h": time.Hour} {
		if d, err := parseSince(in); err != nil || d != want {
			t.Errorf("parseSince(%q) = %v, %v", in, d, err)
		}
	}
	for _, bad := range []string{"", "x", "-1h", "0d"} {
		if _, err := parseSince(bad); err == nil {
			t.Errorf("parseSince(%q) took it", bad)
		}
	}
}

// healow connect for a name that exists reconnects it in place: new tokens, the same id.
func TestConnectAgainReconnectsInPlace(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	p := env.Sandbox.Practices()[0]
	connectOnce := func(t *testing.T) vault.Practice {
		pasteR, pasteW := io.Pipe()
		defer pasteW.Close()
		var out, msg bytes.Buffer
		run := connectRun{conn: env.Connector, name: p.Name, base: p.BaseURL,
			timeout: 30 * time.Second, in: pasteR, out: &out, msg: &msg,
			browse: func(u string) { go consentAndPaste(t, env, u, pasteW) }}
		if err := connect(context.Background(), run); err != nil {
			t.Fatalf("connect: %v (%s)", err, msg.String())
		}
		stored, err := env.Store.GetByName(context.Background(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		return stored
	}
	var first vault.Practice
	var firstToken string
	step(t, "connect", func(t *testing.T) {
		first = connectOnce(t)
		firstToken, _ = env.Secrets.Get(first.ID, vault.AccessToken)
		if firstToken == "" {
			t.Fatal("no access token was stored")
		}
	})
	step(t, "connect again", func(t *testing.T) {
		second := connectOnce(t)
		secondToken, _ := env.Secrets.Get(second.ID, vault.AccessToken)
		all, _ := env.Store.List(context.Background())
		if second.ID != first.ID || len(all) != 1 {
			t.Fatalf("reconnecting made %d practices; ids %s then %s", len(all), first.ID, second.ID)
		}
		if secondToken == firstToken {
			t.Fatal("reconnecting kept the old access token")
		}
	})
}

// A served practice disconnected from the command line is dropped by the running server at once.
func TestDisconnectCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	env := testenv.Start(t, testenv.Options{StatusDir: dir})
	p := env.Connect(t, env.Sandbox.Practices()[0])
	env.Actor(t, p.ID)
	// The command opens its own store on the same file, as it would in its own process.
	store, err := vault.Open(env.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	step(t, "disconnect", func(t *testing.T) {
		var out bytes.Buffer
		if err := disconnect(context.Background(), &out, store, env.Secrets, nil, dir, p.Name); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`Disconnected "` + p.Name + `"`, "no token revocation endpoint", "1 running healow serve stopped serving it"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("disconnect said %q, not %q", out.String(), want)
			}
		}
		if _, err := env.Tree.Registry.Lookup(context.Background(), p.ID); err == nil {
			t.Fatal("the server still serves the practice")
		}
	})
	step(t, "disconnect again", func(t *testing.T) {
		if err := disconnect(context.Background(), io.Discard, store, env.Secrets, nil, dir, p.Name); err == nil || !strings.Contains(err.Error(), "unknown practice") {
			t.Fatalf("disconnecting twice: %v", err)
		}
	})
}

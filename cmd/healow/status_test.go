package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// statusEnv is a running tree that answers healow status, with one healthy practice and one the
// sandbox rate-limits. The status run reads the tree's clock. The scrubber names what differs
// from run to run in what healow status prints of it.
func statusEnv(t *testing.T) (*testenv.Env, statusRun, []sandbox.Practice, scrubber) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	clock := testenv.EarlyInTheMinute()
	env := testenv.Start(t, testenv.Options{StatusDir: dir, Clock: clock})
	ps := env.Sandbox.Practices()
	ready := env.Connect(t, ps[0]).ID
	env.Actor(t, ready)
	limited := env.Connect(t, ps[1]).ID
	testenv.RateLimit(t, env.Sandbox, ps[1].Code, env.Actor(t, limited), ps[1].PatientID)
	scrub := scrubber{}.with(version.String(), "<version>").with(ready, "<ready id>").with(limited, "<rate-limited id>").with(dir, "<run>").
		with(strconv.Itoa(os.Getpid()), "<pid>").with(hostOf(t, env.Sandbox.URL()), "<sandbox>")
	return env, statusRun{store: env.Store, dir: dir, now: clock.Now}, ps, scrub
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestStatusTable(t *testing.T) {
	t.Parallel()
	_, s, ps, scrub := statusEnv(t)
	for _, colour := range []bool{false, true} {
		var out bytes.Buffer
		s.out, s.colour = &out, painter(colour)
		code, err := s.once(context.Background())
		if err != nil || code != statusUnhealthy {
			t.Fatalf("code %d, %v", code, err)
		}
		text := out.String()
		if colour != strings.Contains(text, "\x1b[") {
			t.Fatalf("colour %v, but escapes present: %v", colour, !colour)
		}
		plainText := ansi.ReplaceAllString(text, "")
		if !colour {
			testenv.Golden(t, "testdata/status-tree.golden", []byte(scrub.table(text)))
		}
		for _, want := range []string{"healow serve, pid ", "├─ practices", "rate-limited until", "ready", "└─ status",
			"What to do:", ps[1].Name + " (pid "} {
			if !strings.Contains(plainText, want) {
				t.Fatalf("status lacks %q:\n%s", want, plainText)
			}
		}
		// The columns line up, painted or not: each row's token cell starts under TOKEN.
		var col int
		for _, line := range strings.Split(plainText, "\n") {
			runes := []rune(line) // the tree's branches are several bytes wide
			switch {
			case strings.Contains(line, "TOKEN"):
				col = len([]rune(line[:strings.Index(line, "TOKEN")]))
			case strings.Contains(line, ps[0].Name), strings.Contains(line, ps[1].Name+" "):
				if strings.HasPrefix(line, "  ") { // the advice, not a row
					continue
				}
				if col == 0 || col >= len(runes) || !regexp.MustCompile(`^\d+[smh]`).MatchString(string(runes[col:])) {
					t.Fatalf("misaligned (colour %v): TOKEN at %d in\n%s", colour, col, plainText)
				}
			}
		}
		for _, p := range ps {
			if strings.Contains(text, p.PatientID) {
				t.Fatal("status shows a patient id")
			}
		}
	}
}

func TestStatusJSONAndWatch(t *testing.T) {
	t.Parallel()
	_, s, ps, scrub := statusEnv(t)
	var out bytes.Buffer
	s.out, s.json = &out, true
	if code, err := s.once(context.Background()); err != nil || code != statusUnhealthy {
		t.Fatalf("code %d, %v", code, err)
	}
	testenv.Golden(t, "testdata/status.json.golden", []byte(scrub.scrub(stableStatus(t, out.String()))))
	var r statusReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Healthy || len(r.Servers) != 1 || r.Servers[0].PID != os.Getpid() || r.Servers[0].Version != version.String() ||
		len(r.Servers[0].Practices) != 2 || len(r.NotRunning) != 0 {
		t.Fatalf("report = %+v", r)
	}
	states := map[string]practice.State{}
	for _, p := range r.Servers[0].Practices {
		states[p.Name] = p.State
	}
	if states[ps[0].Name] != practice.StateReady || states[ps[1].Name] != practice.StateRateLimited {
		t.Fatalf("states = %v", states)
	}

	// --watch, for a bounded time: a snapshot per interval, one JSON document per line.
	out.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	code, err := s.watch(ctx, 100*time.Millisecond)
	if err != nil || code != statusUnhealthy {
		t.Fatalf("watch: %d, %v", code, err)
	}
	lines := 0
	for sc := bufio.NewScanner(&out); sc.Scan(); lines++ {
		var r statusReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || len(r.Servers) != 1 {
			t.Fatalf("line %d: %v %s", lines, err, sc.Text())
		}
	}
	if lines < 2 {
		t.Fatalf("%d snapshots in 1.5s", lines)
	}
}

// With no server running, status shows every stored practice as not running, with what was
// last known of it, and exits 4; a socket a dead server left behind is removed, not shown.
func TestStatusWithNoServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := vault.Open(filepath.Join(dir, "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	p := vault.Practice{ID: vault.NewID(), Name: "Sunrise", FHIRBaseURL: "https://fhir.example/r4/ABCDEF", PatientID: "p1",
		TokenExpiry: time.Now().Add(-time.Hour), LastRefresh: time.Now().Add(-2 * time.Hour)}
	if err := store.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	store.RecordState(ctx, p.ID, vault.KnownState{State: "needs-reconnect", LastError: "invalid_grant", PID: 4242, At: time.Now()})
	run := status.SocketDir(store.Path())
	os.MkdirAll(run, 0o700)
	stale := status.SocketPath(run, 999999)
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	var out bytes.Buffer
	s := statusRun{store: store, dir: run, out: &out, now: time.Now}
	code, err := s.once(ctx)
	if err != nil || code != statusNoServer {
		t.Fatalf("code %d, %v", code, err)
	}
	for _, want := range []string{"No healow serve is running", "Sunrise", "not running", "expired 1h ago", "2h ago", "needs-reconnect", "by pid 4242", "invalid_grant"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("status lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "999999") {
		t.Fatal("a dead server is shown")
	}
	testenv.Golden(t, "testdata/status-not-running.golden", []byte(scrubber{}.with(p.ID, "<id>").table(out.String())))
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the dead server's socket is still there: %v", err)
	}
	// A reconnect since makes the last known state stale: it is not shown.
	if err := store.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s.json = true
	s.once(ctx)
	var r statusReport
	json.Unmarshal(out.Bytes(), &r)
	if r.Healthy || len(r.NotRunning) != 1 || r.NotRunning[0].LastKnown != nil {
		t.Fatalf("after a reconnect: %+v", r.NotRunning)
	}
}

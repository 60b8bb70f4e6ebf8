package status_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// askStatus asks every server in dir, as healow status does, and expects exactly one.
func askStatus(t *testing.T, dir string) *status.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	servers, err := status.AskAll(ctx, dir, status.Request{Op: status.OpStatus})
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 1 || servers[0].Err != nil || servers[0].PID != os.Getpid() {
		t.Fatalf("servers = %+v", servers)
	}
	return servers[0].Reply
}

func byName(rep *status.Reply, name string) status.Practice {
	for _, p := range rep.Practices {
		if p.Name == name {
			return p
		}
	}
	return status.Practice{}
}

// Over the socket, a healthy practice and a rate-limited one each show as they are, with what to
// do about the sick one, in a tree of this process's services, and without the patient's id.
func TestStatusOverTheSocket(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	env := testenv.Start(t, testenv.Options{StatusDir: dir, Clock: testenv.EarlyInTheMinute()})
	ps := env.Sandbox.Practices()
	well, limited := env.Connect(t, ps[0]), env.Connect(t, ps[1])
	env.Actor(t, well.ID)
	testenv.RateLimit(t, env.Sandbox, ps[1].Code, env.Actor(t, limited.ID), ps[1].PatientID)

	rep := askStatus(t, dir)
	if rep.Process.PID != os.Getpid() || rep.Process.Started.IsZero() {
		t.Fatalf("process = %+v", rep.Process)
	}
	w, l := byName(rep, ps[0].Name), byName(rep, ps[1].Name)
	if w.State != practice.StateReady || !w.Healthy || w.Advice != "" || w.TokenLeft <= 0 {
		t.Fatalf("healthy practice: %+v", w)
	}
	if l.State != practice.StateRateLimited || l.Healthy || l.RateLimitedUntil.IsZero() || !strings.Contains(l.Advice, "rate limit") || l.LastStatus != 429 {
		t.Fatalf("rate-limited practice: %+v", l)
	}
	// The tree: healow, with the practices supervisor holding both actors.
	var practices *status.Node
	for i, n := range rep.Tree.Children {
		if n.Name == "practices" {
			practices = &rep.Tree.Children[i]
		}
	}
	if rep.Tree.Name != "healow" || practices == nil || len(practices.Children) != 2 || practices.Children[0].Practice == "" {
		t.Fatalf("tree = %+v", rep.Tree)
	}
	raw, _ := json.Marshal(rep)
	for _, p := range ps {
		if strings.Contains(string(raw), p.PatientID) {
			t.Fatalf("the status reply names patient %s: %s", p.PatientID, raw)
		}
	}
	// The store heard the last state too, for when no server runs.
	if err := env.Tree.RecordStates(context.Background()); err != nil {
		t.Fatal(err)
	}
	known, err := env.Store.KnownStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if known[limited.ID].State != string(practice.StateRateLimited) || known[well.ID].State != string(practice.StateReady) ||
		known[limited.ID].PID != os.Getpid() {
		t.Fatalf("the store heard %+v", known)
	}
}

// A practice whose grant was revoked shows as needing a reconnect, with the command to run.
func TestStatusOfARevokedGrant(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	dir := filepath.Join(t.TempDir(), "run")
	env := testenv.Start(t, testenv.Options{Clock: clock, StatusDir: dir})
	p := env.Sandbox.Practices()[0]
	stored := env.Connect(t, p)
	a := env.Actor(t, stored.ID)
	env.Sandbox.SetFaults(p.Code, sandbox.Faults{RevokeRefresh: true})
	clock.Advance(2 * time.Hour) // the access token has expired
	if _, err := a.Fetch(context.Background(), practice.Request{Resource: "Patient", ID: p.PatientID}); !errors.Is(err, practice.ErrNeedsReconnect) {
		t.Fatalf("fetch: %v", err)
	}
	s := byName(askStatus(t, dir), p.Name)
	if s.State != practice.StateNeedsReconnect || s.Healthy || !strings.Contains(s.Advice, "healow connect --name") || s.LastError == "" {
		t.Fatalf("revoked practice: %+v", s)
	}
	if strings.Contains(s.LastError, p.PatientID) {
		t.Fatalf("last error names the patient: %s", s.LastError)
	}
}

// A socket whose process died is removed, and never reported as a server.
func TestDeadServersAreForgotten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := status.SocketPath(dir, 999999)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false) // as a killed process leaves it
	l.Close()
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600) // not a socket of ours: left alone
	servers, err := status.AskAll(context.Background(), dir, status.Request{Op: status.OpStatus})
	if err != nil || len(servers) != 0 {
		t.Fatalf("AskAll = %+v, %v", servers, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the dead socket is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	// No folder at all: nothing runs, and that is not an error.
	if servers, err := status.AskAll(context.Background(), filepath.Join(dir, "none"), status.Request{Op: status.OpStatus}); err != nil || servers != nil {
		t.Fatalf("no folder: %+v, %v", servers, err)
	}
}

// Only this user may reach the socket, and it goes when the server stops.
func TestStatusSocketIsPrivateAndGoesAway(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tree := supervisor.New(supervisor.Options{StatusDir: dir, Practice: practice.Options{Store: store}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tree.Serve(ctx); close(done) }()
	path := status.SocketPath(dir, os.Getpid())
	<-tree.Listening()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: %v, %v; want %o", p, fi.Mode(), err, want)
		}
	}
	rep := askStatus(t, dir)
	if len(rep.Practices) != 0 {
		t.Fatalf("%+v", rep)
	}
	if _, err := status.Ask(context.Background(), path, status.Request{Op: "explode"}); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Fatalf("unknown op: %v", err)
	}
	cancel()
	<-done
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket outlived its server: %v", err)
	}
}

package supervisor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// A practice stored by another process (here, the connector on its own) is served without a
// restart, and found by name or id.
func TestPracticeConnectedElsewhereIsServed(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	sp := env.Sandbox.Practices()[0]
	stored := env.Connect(t, sp)
	a := env.Actor(t, stored.ID)
	if byName := env.Actor(t, strings.ToUpper(sp.Name)); byName != a {
		t.Fatal("lookup by name found another actor")
	}
	resp, err := a.Fetch(context.Background(), practice.Request{Resource: "Patient", ID: sp.PatientID})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), sp.PatientID) {
		t.Fatalf("body = %.200s", resp.Body)
	}
}

func TestLookupSaysWhichPracticesExist(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	reg := env.Tree.Registry
	ctx := context.Background()
	if _, err := reg.Lookup(ctx, ""); !errors.Is(err, supervisor.ErrUnknownPractice) || !strings.Contains(err.Error(), "connect_practice") {
		t.Fatalf("no practices: %v", err)
	}
	ps := env.Sandbox.Practices()
	first := env.Connect(t, ps[0])
	if a := env.Actor(t, ""); a.ID() != first.ID {
		t.Fatal("the only practice is not the default")
	}
	env.Connect(t, ps[1])
	env.Actor(t, ps[1].Name)
	_, err := reg.Lookup(ctx, "")
	if !errors.Is(err, supervisor.ErrUnknownPractice) || !strings.Contains(err.Error(), ps[0].Name) || !strings.Contains(err.Error(), ps[1].Name) {
		t.Fatalf("two practices, none named: %v", err)
	}
	if _, err := reg.Lookup(ctx, "Nowhere Clinic"); !errors.Is(err, supervisor.ErrUnknownPractice) || !strings.Contains(err.Error(), ps[1].Name) {
		t.Fatalf("unknown name: %v", err)
	}
}

// A practice whose grant was revoked answers at once with the way out, and the others go on.
func TestOnePracticeFailingLeavesTheOthersAlone(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	env := testenv.Start(t, testenv.Options{Clock: clock})
	ps := env.Sandbox.Practices()
	sick, well := env.Connect(t, ps[0]), env.Connect(t, ps[1])
	sickActor, wellActor := env.Actor(t, sick.ID), env.Actor(t, well.ID)
	env.Sandbox.SetFaults(ps[0].Code, sandbox.Faults{RevokeRefresh: true})
	clock.Advance(2 * time.Hour) // both access tokens have expired
	ctx := context.Background()

	_, err := sickActor.Fetch(ctx, practice.Request{Resource: "Patient", ID: ps[0].PatientID})
	if !errors.Is(err, practice.ErrNeedsReconnect) || !strings.Contains(err.Error(), "healow connect --name") {
		t.Fatalf("sick fetch: %v", err)
	}
	refreshes := env.Sandbox.Stats().RefreshGrants
	if _, err := sickActor.Fetch(ctx, practice.Request{Resource: "Patient", ID: ps[0].PatientID}); !errors.Is(err, practice.ErrNeedsReconnect) {
		t.Fatalf("second sick fetch: %v", err)
	}
	if env.Sandbox.Stats().RefreshGrants != refreshes {
		t.Fatal("the sick practice kept trying to refresh a revoked grant")
	}
	if _, err := wellActor.Fetch(ctx, practice.Request{Resource: "Patient", ID: ps[1].PatientID}); err != nil {
		t.Fatalf("the healthy practice failed too: %v", err)
	}
	hs, err := env.Tree.Registry.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]practice.State{}
	for _, h := range hs {
		states[h.ID] = h.State
	}
	if states[sick.ID] != practice.StateNeedsReconnect || states[well.ID] != practice.StateReady {
		t.Fatalf("health states = %v", states)
	}
	// The revoked practice's refresh token is still stored: nothing is thrown away.
	if _, err := env.Secrets.Get(sick.ID, vault.RefreshToken); err != nil {
		t.Fatalf("refresh token lost: %v", err)
	}
	var infos []string
	list, _ := env.Tree.Registry.Infos(ctx)
	for _, i := range list {
		infos = append(infos, i.Name+"="+string(i.State))
	}
	if len(infos) != 2 {
		t.Fatalf("list_practices would show %v", infos)
	}
}

// Connecting a name again keeps its id, and the running actor takes the new tokens.
func TestReconnectInPlace(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	sp := env.Sandbox.Practices()[0]
	env.Sandbox.SetFaults(sp.Code, sandbox.Faults{RevokeRefresh: true})
	first := env.Connect(t, sp)
	a := env.Actor(t, first.ID)
	env.Sandbox.SetFaults(sp.Code, sandbox.Faults{})
	second := env.Connect(t, sp)
	if second.ID != first.ID {
		t.Fatalf("reconnect made a new id %s (was %s)", second.ID, first.ID)
	}
	access, _ := env.Secrets.Get(first.ID, vault.AccessToken)
	// The registry sees the changed row (at its next poll, or now) and has the actor reload it.
	if err := env.Tree.Registry.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fetch(context.Background(), practice.Request{Resource: "Patient", ID: sp.PatientID}); err != nil {
		t.Fatal(err)
	}
	h, _ := a.Health(context.Background())
	if h.TokenExpiry.Before(second.TokenExpiry) || access == "" {
		t.Fatalf("the actor did not take the reconnected tokens: expiry %v, want %v", h.TokenExpiry, second.TokenExpiry)
	}
}

// A practice removed from the store stops being served.
func TestRemovedPracticeIsDropped(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	sp := env.Sandbox.Practices()[0]
	stored := env.Connect(t, sp)
	a := env.Actor(t, stored.ID)
	if err := env.Store.Delete(context.Background(), stored.ID); err != nil {
		t.Fatal(err)
	}
	if err := env.Tree.Registry.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fetch(context.Background(), practice.Request{Resource: "Patient", ID: sp.PatientID}); !errors.Is(err, practice.ErrStopped) {
		t.Fatalf("the removed practice is still served: %v", err)
	}
	if _, err := env.Tree.Registry.Lookup(context.Background(), stored.ID); !errors.Is(err, supervisor.ErrUnknownPractice) {
		t.Fatalf("lookup after removal: %v", err)
	}
}

// A registry whose store is damaged cannot start, and every call to it fails at once, saying
// why, instead of waiting for its caller's deadline (get_patient and list_practices hung for
// over 150 s while tools/list still answered). The calls have no deadline of their own.
func TestRegistryOnADamagedStoreFailsAtOnce(t *testing.T) {
	t.Parallel()
	path := testenv.ClosedStore(t, "Sunrise", "Lakeside")
	testenv.DamageStore(t, path, 2)
	store, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tree := supervisor.New(supervisor.Options{Practice: practice.Options{Store: store, Secrets: vault.NewMemory()}})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { tree.Serve(ctx); close(served) }()
	t.Cleanup(func() { cancel(); <-served })

	calls := map[string]func() error{
		"Lookup": func() error { _, err := tree.Registry.Lookup(context.Background(), "Sunrise"); return err },
		"Infos":  func() error { _, err := tree.Registry.Infos(context.Background()); return err },
		"Health": func() error { _, err := tree.Registry.Health(context.Background()); return err },
	}
	for name, call := range calls {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, supervisor.ErrRegistryDown) || !errors.Is(err, vault.ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("%s: %v; want the damaged store named", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s is still waiting for a registry that cannot start", name)
		}
	}
}

// service is a suture service that says when it runs and when it stops.
type service struct{ started, stopped chan struct{} }

func (s service) Serve(ctx context.Context) error {
	close(s.started)
	<-ctx.Done()
	close(s.stopped)
	return ctx.Err()
}

// The MCP layer's actors run in the tree, whether started before it runs or while it does, and
// stop with it.
func TestStartedActorsStopWithTheTree(t *testing.T) {
	t.Parallel()
	store, err := vault.Open(testenv.ClosedStore(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tree := supervisor.New(supervisor.Options{Practice: practice.Options{Store: store, Secrets: vault.NewMemory()}})
	early := service{make(chan struct{}), make(chan struct{})}
	tree.Registry.Start(early) // before the tree runs: it starts with it
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { tree.Serve(ctx); close(served) }()
	<-early.started
	late := service{make(chan struct{}), make(chan struct{})}
	tree.Registry.Start(late)
	<-late.started
	cancel()
	<-served
	<-early.stopped
	<-late.stopped
}

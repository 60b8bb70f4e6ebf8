package mcp

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/practice"
)

// buildRun is one build the actor started, held by the test: what it may tell, and how it ends.
type buildRun struct {
	a    *practice.Actor
	ctx  context.Context
	tell func(recordStep)
	end  chan error
}

// heldBuilds is an actor whose builds the test runs step by step.
func heldBuilds(t *testing.T) (*recordIndexes, *actor.Bus[practice.Event], <-chan buildRun) {
	t.Helper()
	runs := make(chan buildRun)
	bus := &actor.Bus[practice.Event]{}
	r := newRecordIndexes(actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC)), bus,
		func(ctx context.Context, a *practice.Actor, _ *recordindex.Index, tell func(recordStep)) error {
			run := buildRun{a: a, ctx: ctx, tell: tell, end: make(chan error)}
			select {
			case runs <- run:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case err := <-run.end:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; !errors.Is(err, context.Canceled) {
			t.Errorf("Serve = %v", err)
		}
	})
	return r, bus, runs
}

// The loop counts the steps of each practice's current build only: a rebuild stops the build it
// replaces, whose later steps are no news, and wakes the calls that waited on it.
func TestRecordIndexesCountOnlyTheCurrentBuild(t *testing.T) {
	t.Parallel()
	r, _, runs := heldBuilds(t)
	ctx := context.Background()
	a := practice.New("pr_aaaaaaaaaa", practice.Options{})
	one := []*practice.Actor{a}

	first, err := r.start(ctx, one, nil, one, false)
	if err != nil || first[0].done || first[0].gone {
		t.Fatalf("start = %+v, %v", first, err)
	}
	old := <-runs
	old.tell(recordStep{kind: true, failed: "Goal: refused"})
	waiting, _ := r.views(ctx, a)
	if w := waiting[0]; w.kinds != 1 || len(w.failed) != 1 || w.done {
		t.Fatalf("after a step: %+v", w)
	}
	if again, _ := r.start(ctx, one, nil, one, false); again[0].kinds != 1 {
		t.Fatalf("a build under way was started again: %+v", again[0])
	}

	if _, err := r.start(ctx, one, nil, one, true); err != nil {
		t.Fatal(err)
	}
	<-old.ctx.Done()
	select {
	case <-waiting[0].changed:
	default:
		t.Fatal("a call waiting on the replaced build was not woken")
	}
	cur := <-runs
	old.tell(recordStep{kind: true}) // gives up: its build was stopped
	cur.tell(recordStep{doc: true})
	cur.end <- nil
	v, _ := r.views(ctx, a)
	for !v[0].done {
		<-v[0].changed
		v, _ = r.views(ctx, a)
	}
	if v[0].kinds != 0 || v[0].docs != 1 || len(v[0].failed) != 0 {
		t.Fatalf("the rebuild's counts: %+v", v[0])
	}
}

// An index is dropped when the registry says its practice is gone, and when its build finds the
// practice's actor stopped; a call waiting on it is woken, and sees it gone.
func TestRecordIndexesDropWhatIsNoLongerServed(t *testing.T) {
	t.Parallel()
	r, bus, runs := heldBuilds(t)
	ctx := context.Background()
	a, b := practice.New("pr_aaaaaaaaaa", practice.Options{}), practice.New("pr_bbbbbbbbbb", practice.Options{})
	both := []*practice.Actor{a, b}
	views, err := r.start(ctx, both, nil, both, false)
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := <-runs, <-runs
	if ra.a != a {
		ra, rb = rb, ra
	}

	bus.Publish(practice.Event{Practice: a.ID(), Removed: true})
	if n, _ := r.held(ctx); n != 1 {
		t.Fatalf("%d indexes held after a's removal, want 1", n)
	}
	<-ra.ctx.Done()
	<-views[0].changed
	if v, _ := r.views(ctx, a); !v[0].gone {
		t.Fatalf("a's index after its removal: %+v", v[0])
	}

	rb.end <- fmt.Errorf("asking the practice: %w", practice.ErrStopped)
	<-views[1].changed
	if v, _ := r.views(ctx, b); !v[0].gone {
		t.Fatalf("b's index after its build found the actor stopped: %+v", v[0])
	}
	if n, _ := r.held(ctx); n != 0 {
		t.Fatalf("%d indexes held, want 0", n)
	}
}

// A practice connected again as another patient (a parent's account, then their child's) is
// another person's record: its index is built again, never searched for the new patient.
func TestRecordIndexesBuildAgainForAnotherPatient(t *testing.T) {
	t.Parallel()
	r, _, runs := heldBuilds(t)
	ctx := context.Background()
	a := practice.New("pr_aaaaaaaaaa", practice.Options{})
	one := []*practice.Actor{a}

	if _, err := r.start(ctx, one, []string{"pat-1"}, one, false); err != nil {
		t.Fatal(err)
	}
	first := <-runs
	first.end <- nil
	for v, _ := r.views(ctx, a); !v[0].done; v, _ = r.views(ctx, a) {
		<-v[0].changed
	}
	if again, _ := r.start(ctx, one, []string{"pat-1"}, one, false); !again[0].done {
		t.Fatalf("the same patient's index was built again: %+v", again[0])
	}
	other, err := r.start(ctx, one, []string{"pat-2"}, one, false)
	if err != nil || other[0].done || other[0].kinds != 0 {
		t.Fatalf("another patient's call: %+v, %v", other, err)
	}
	if second := <-runs; second.a != a {
		t.Fatalf("the rebuild is of %s", second.a.ID())
	}
}

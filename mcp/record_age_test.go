package mcp_test

import (
	"context"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// The index is built once: a note the practice adds later is found only when a call asks for a
// rebuild, which reads the whole record again.
func TestSearchRecordRebuildReadsTheRecordAgain(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Clock: actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))})
	cs := session(t, env)
	sunrise := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, sunrise)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "quokka"}, &r)
	if len(r.Matches) != 0 || len(r.Coverage) != 1 || r.Coverage[0].State != "complete" || len(r.Coverage[0].Failed) != 0 {
		t.Fatalf("before the note: %+v", r)
	}
	id := env.Sandbox.AddNote(sunrise.Code, "Told about the quokka she saw on holiday.")
	callOK(t, cs, "search_record", map[string]any{"text": "quokka"}, &r)
	if len(r.Matches) != 0 {
		t.Fatalf("the index was read again without being asked: %+v", r.Matches)
	}
	callOK(t, cs, "search_record", map[string]any{"text": "quokka", "rebuild": true}, &r)
	if len(r.Matches) != 1 || r.Matches[0].ID != id || !r.find("DocumentReference", sunrise.Name, "quokka") || r.Coverage[0].State != "complete" {
		t.Fatalf("after a rebuild: %+v", r)
	}
}

// An index is built again at the first call once it is a day old on the server's clock, and not
// a moment before.
func TestSearchRecordRebuildsAnIndexADayOld(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Clock: clock})
	cs := session(t, env)
	sunrise := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, sunrise)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "quokka"}, &r)
	env.Sandbox.AddNote(sunrise.Code, "Told about the quokka she saw on holiday.")
	clock.Advance(24*time.Hour - time.Second)
	callOK(t, cs, "search_record", map[string]any{"text": "quokka"}, &r)
	if len(r.Matches) != 0 || r.Coverage[0].State != "complete" {
		t.Fatalf("an index less than a day old was built again: %+v", r)
	}
	clock.Advance(time.Second)
	callOK(t, cs, "search_record", map[string]any{"text": "quokka"}, &r)
	if !r.find("DocumentReference", sunrise.Name, "quokka") || r.Coverage[0].State != "complete" {
		t.Fatalf("an index a day old was not built again: %+v", r)
	}
}

// Disconnecting a practice drops its index at once, by the registry's word: before any other
// call, the index has left memory, a call waiting for its build is answered without it, and the
// next answer covers the practices still connected.
func TestSearchRecordDropsAnIndexWhenItsPracticeIsDisconnected(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Clock: clock})
	s, held := mcp.NewServerIndexes(env.Tree.Registry, inProcessPDFs)
	cs := connect(t, s)
	sunrise, lakeside := env.Sandbox.Practices()[0], env.Sandbox.Practices()[1]
	connectThroughTools(t, env, cs, sunrise)
	lakesideID := connectThroughTools(t, env, cs, lakeside)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "complaints", "practices": []string{sunrise.Name}}, &r)
	// Lakeside's build is under way, held by the practice, with a call waiting for it.
	gate := make(chan struct{})
	defer close(gate)
	env.Sandbox.SetFaults(lakeside.Code, sandbox.Faults{Gate: gate})
	waiting := searchHeld(t, env, clock, cs, lakeside.Name)
	if n := held(); n != 2 {
		t.Fatalf("%d indexes held, want 2", n)
	}

	if _, err := env.Tree.Registry.Disconnect(context.Background(), lakesideID); err != nil {
		t.Fatal(err)
	}
	if n := held(); n != 1 {
		t.Fatalf("after disconnecting %s: %d indexes held, want 1", lakeside.Name, n)
	}
	// Answered without the clock moving: not by the call's own wait running out.
	if r := <-waiting; len(r.Coverage) != 0 || len(r.Matches) != 0 {
		t.Fatalf("the waiting call answered from the dropped index: %+v", r)
	}
	callOK(t, cs, "search_record", map[string]any{"text": "complaints"}, &r)
	if len(r.Coverage) != 1 || r.Coverage[0].Practice != sunrise.Name || !r.find("DocumentReference", sunrise.Name, "complaints") {
		t.Fatalf("after disconnecting %s: coverage %+v, matches %+v", lakeside.Name, r.Coverage, r.Matches)
	}
}

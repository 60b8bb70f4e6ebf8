package supervisor

import (
	"context"
	"testing"

	"github.com/healow-mcp/healow-mcp/vault"
)

// Reads of the store run outside the registry's loop and can arrive in any order: a poll that
// started before a practice was connected may land after the Sync that served it. Applied, its
// rows would stop that practice's actor and publish its removal (search_record would drop its
// index). An older read than the one applied is dropped; what changed since is the next poll's.
func TestAnOlderReadOfTheStoreIsNotApplied(t *testing.T) {
	tree := New(Options{})
	r := tree.Registry
	events, stop := tree.Events.Subscribe(8)
	defer stop()
	a, b := vault.Practice{ID: "pr_a", Name: "A"}, vault.Practice{ID: "pr_b", Name: "B"}
	ctx := context.Background()

	older := &syncMsg{seq: r.reads.Add(1), gen: 1, rows: []vault.Practice{a}}
	newer := &syncMsg{seq: r.reads.Add(1), gen: 2, rows: []vault.Practice{a, b}}
	r.sync(ctx, newer)
	r.sync(ctx, older)
	if len(r.entries) != 2 || r.entries["pr_b"] == nil || r.gen != 2 {
		t.Fatalf("after an older read: %d practices served, generation %d", len(r.entries), r.gen)
	}
	select {
	case e := <-events:
		t.Fatalf("an older read published %+v", e)
	default:
	}

	// A read that started later is applied, removals included.
	latest := &syncMsg{seq: r.reads.Add(1), gen: 3, rows: []vault.Practice{b}}
	r.sync(ctx, latest)
	if len(r.entries) != 1 || r.entries["pr_b"] == nil {
		t.Fatalf("after the latest read: %d practices served", len(r.entries))
	}
	if e := <-events; !e.Removed || e.Practice != "pr_a" {
		t.Fatalf("event %+v, want pr_a removed", e)
	}
}

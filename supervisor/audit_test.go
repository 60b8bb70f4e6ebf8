package supervisor_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Rows recorded just before a clean shutdown still reach the store, and old rows are pruned when
// a server starts.
func TestAuditRowsSurviveShutdownAndOldOnesArePruned(t *testing.T) {
	t.Parallel()
	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	old := vault.Access{At: time.Now().Add(-91 * 24 * time.Hour), PracticeID: "pr_aaaaaaaaaa", Tool: "get_patient", ResourceType: "Patient", Resources: 1, Outcome: "ok"}
	kept := old
	kept.At = time.Now().Add(-89 * 24 * time.Hour)
	if err := store.RecordAccess(ctx, old, kept); err != nil {
		t.Fatal(err)
	}

	tree := supervisor.New(supervisor.Options{Practice: practice.Options{Store: store}})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { tree.Serve(sctx); close(done) }()
	if err := tree.Registry.FlushAudit(ctx); err != nil { // the writer runs: it pruned as it started
		t.Fatal(err)
	}
	if rows, err := store.Audit(ctx, vault.AuditQuery{}); err != nil || len(rows) != 1 {
		t.Fatalf("not pruned: %+v, %v", rows, err)
	}
	const n = 500
	for i := range n {
		tree.Registry.RecordAccess(supervisor.Access{PracticeID: "pr_bbbbbbbbbb", Tool: "search_observation",
			ResourceType: "Observation", Resources: i, Outcome: "ok"})
	}
	cancel()
	<-done

	rows, err := store.Audit(ctx, vault.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 || !rows[0].At.Equal(kept.At) {
		t.Fatalf("%d rows, first %+v; want the kept one and %d new", len(rows), rows[0], n)
	}
	seen := map[int]bool{}
	for _, r := range rows[1:] {
		seen[r.Resources] = true
		if r.Tool != "search_observation" || r.PID == 0 || r.Outcome != "ok" {
			t.Fatalf("row %+v", r)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct rows of %d", len(seen), n)
	}
}

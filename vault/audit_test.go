package vault

import (
	"testing"
	"time"
)

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTestStore(t, clock)
	ctx := t.Context()
	acme, beta := samplePractice("Acme"), samplePractice("Beta")
	for _, p := range []Practice{acme, beta} {
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	gen, _ := s.Generation(ctx)
	t0 := clock.Now()
	rows := []Access{
		// Whole seconds and nanoseconds side by side: text order must still be time order.
		{At: t0.Add(-100 * 24 * time.Hour), PID: 7, PracticeID: acme.ID, Tool: "get_patient", ResourceType: "Patient", Resources: 1, Outcome: "ok"},
		{At: t0.Truncate(time.Second), PID: 7, PracticeID: beta.ID, Tool: "search_observation", ResourceType: "Observation", Resources: 20, Outcome: "ok"},
		{At: t0, PID: 8, PracticeID: acme.ID, Tool: "list_allergies", ResourceType: "AllergyIntolerance", Outcome: "http-403"},
	}
	if err := s.RecordAccess(ctx, rows...); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.Generation(ctx); g != gen {
		t.Fatal("recording accesses bumped the generation: servers would reload on every read")
	}
	all, err := s.Audit(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].Tool != "get_patient" || all[2].Outcome != "http-403" || all[1].Resources != 20 {
		t.Fatalf("Audit = %+v", all)
	}
	if all[0].PracticeName != "Acme" || !all[2].At.Equal(t0) || all[2].PID != 8 {
		t.Fatalf("row = %+v", all[2])
	}
	// The name is kept after the practice is gone, so the trail still reads.
	if err := s.Delete(ctx, acme.ID); err != nil {
		t.Fatal(err)
	}
	byName, err := s.Audit(ctx, AuditQuery{Practice: "ACME"})
	if err != nil || len(byName) != 2 {
		t.Fatalf("by name after disconnect: %+v, %v", byName, err)
	}
	recent, err := s.Audit(ctx, AuditQuery{Since: t0.Add(-time.Millisecond)})
	if err != nil || len(recent) != 1 || recent[0].Tool != "list_allergies" {
		t.Fatalf("since: %+v, %v", recent, err)
	}
	n, err := s.PruneAudit(ctx, t0.Add(-90*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v", n, err)
	}
	if left, _ := s.Audit(ctx, AuditQuery{}); len(left) != 2 {
		t.Fatalf("after pruning: %+v", left)
	}
}

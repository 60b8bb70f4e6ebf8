package vault

import (
	"testing"
	"time"
)

// The last known state round-trips, is replaced by a newer one, leaves the generation alone, and
// goes with its practice.
func TestKnownStates(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := openTestStore(t, clock)
	ctx := t.Context()
	p := samplePractice("Acme")
	if err := s.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	gen, _ := s.Generation(ctx)
	first := KnownState{State: "ready", PID: 41, At: clock.Now()}
	second := KnownState{State: "needs-reconnect", LastError: "invalid_grant", PID: 42, At: clock.Now().Add(time.Second)}
	for _, k := range []KnownState{first, second} {
		if err := s.RecordState(ctx, p.ID, k); err != nil {
			t.Fatal(err)
		}
	}
	// A practice that is gone is skipped, not an error: a server may see it just before.
	if err := s.RecordState(ctx, NewID(), first); err != nil {
		t.Fatalf("unknown practice: %v", err)
	}
	got, err := s.KnownStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := got[p.ID]
	if len(got) != 1 || !ok || k.State != second.State || k.LastError != second.LastError || k.PID != 42 || !k.At.Equal(second.At) {
		t.Fatalf("KnownStates = %+v", got)
	}
	if g, _ := s.Generation(ctx); g != gen {
		t.Fatalf("generation moved from %d to %d: servers would reload for nothing", gen, g)
	}
	if err := s.Delete(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.KnownStates(ctx); len(got) != 0 {
		t.Fatalf("the state outlived its practice: %+v", got)
	}
}

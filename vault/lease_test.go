package vault

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// Two handles on one file stand in for two processes.
func TestRefreshLeaseIsExclusiveAcrossHandles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	clock := newFakeClock()
	a, b := openStoreAt(t, path, clock), openStoreAt(t, path, clock)
	ctx := context.Background()
	p := samplePractice("Lease")
	id := p.ID
	if err := a.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	gen, _ := a.Generation(ctx)

	releaseA, abandoned, err := a.AcquireRefreshLease(ctx, id, "process-a", time.Minute)
	if err != nil || abandoned {
		t.Fatal(err, abandoned)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err = b.AcquireRefreshLease(short, id, "process-b", time.Minute)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b took a held lease: %v", err)
	}
	releaseA()
	releaseB, abandoned, err := b.AcquireRefreshLease(ctx, id, "process-b", time.Minute)
	if err != nil || abandoned {
		t.Fatalf("b after release: %v %v", err, abandoned)
	}
	// A holder that died leaves a lease that lapses.
	clock.Advance(2 * time.Minute)
	releaseA, abandoned, err = a.AcquireRefreshLease(ctx, id, "process-a", time.Minute)
	if err != nil || !abandoned {
		t.Fatalf("a after b's lease lapsed: %v, abandoned %v", err, abandoned)
	}
	releaseB() // b's late release must not free a's lease
	short, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err = b.AcquireRefreshLease(short, id, "process-b", time.Minute)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b's stale release freed a's lease: %v", err)
	}
	releaseA()
	if g, _ := a.Generation(ctx); g != gen {
		t.Fatalf("leases moved the generation from %d to %d", gen, g)
	}
	if _, _, err := a.AcquireRefreshLease(ctx, NewID(), "process-a", time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lease of a missing practice: %v", err)
	}
}

// A renewed lease holds past its first ttl; a lease that lapsed and went to another holder cannot
// be renewed by the first.
func TestRenewedLeaseOutlivesItsFirstTTL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	clock := newFakeClock()
	a, b := openStoreAt(t, path, clock), openStoreAt(t, path, clock)
	ctx := context.Background()
	p := samplePractice("Renew")
	if err := a.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	releaseA, _, err := a.AcquireRefreshLease(ctx, p.ID, "process-a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clock.Advance(40 * time.Second)
		if err := a.RenewRefreshLease(ctx, p.ID, "process-a", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// Two minutes after it was taken, the lease renewed every 40 s still holds.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, _, err = b.AcquireRefreshLease(short, p.ID, "process-b", time.Minute)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b took a renewed lease: %v", err)
	}
	// a stops renewing (it died): the lease lapses and b takes it; a's renewal then fails.
	clock.Advance(2 * time.Minute)
	releaseB, abandoned, err := b.AcquireRefreshLease(ctx, p.ID, "process-b", time.Minute)
	if err != nil || !abandoned {
		t.Fatalf("b after a's lease lapsed: %v, abandoned %v", err, abandoned)
	}
	if err := a.RenewRefreshLease(ctx, p.ID, "process-a", time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a renewed a lease b holds: %v", err)
	}
	releaseA()
	releaseB()
}

package vault

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestReserveRequestsKeepsEachMinutesBudget(t *testing.T) {
	t.Parallel()
	s := openTestStore(t, nil)
	ctx := context.Background()
	const base = "https://fhir4.healow.com/fhir/r4/FEIGCD"
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("EST", -5*3600))
	gen, _ := s.Generation(ctx)
	steps := []struct {
		at          time.Time
		base        string
		want        int
		granted     int
		used        int
		minuteStart time.Time
	}{
		{at, base, 4, 4, 4, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)},
		{at.Add(33 * time.Second), base, 4, 4, 8, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)}, // :59, the same minute
		{at.Add(33 * time.Second), base, 4, 2, 10, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)},
		{at, base, 1, 0, 10, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)},                       // spent
		{at, base + "X", 3, 3, 3, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)},                  // another base counts apart
		{at.Add(34 * time.Second), base, 4, 4, 4, time.Date(2026, 3, 14, 20, 10, 0, 0, time.UTC)}, // the minute turned
		{at, base, 1, 0, 10, time.Date(2026, 3, 14, 20, 9, 0, 0, time.UTC)},                       // a late reservation still finds its minute spent
	}
	for i, st := range steps {
		r, err := s.ReserveRequests(ctx, st.base, st.at, st.want, 10)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if r.Granted != st.granted || r.Used != st.used || !r.Minute.Equal(st.minuteStart) {
			t.Fatalf("step %d: %+v; want %d granted, %d used in the minute from %v", i, r, st.granted, st.used, st.minuteStart)
		}
	}
	// Minutes long gone are deleted when a new minute starts.
	if _, err := s.ReserveRequests(ctx, base, at.Add(10*time.Minute), 1, 10); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.db.QueryRow(`SELECT count(*) FROM rate_minutes`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d rows left (%v), want the new minute's alone", rows, err)
	}
	if g, _ := s.Generation(ctx); g != gen {
		t.Fatalf("reservations moved the generation from %d to %d", gen, g)
	}
}

// Two handles on one file stand in for two processes: however their reservations interleave,
// together they never take more than the minute's budget, and they take all of it.
func TestReserveRequestsAcrossHandlesNeverOverruns(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.db")
	stores := []*Store{openStoreAt(t, path, nil), openStoreAt(t, path, nil)}
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	const limit, block = 250, 7
	var (
		mu    sync.Mutex
		total int
		wg    sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for {
				r, err := stores[w%2].ReserveRequests(context.Background(), "https://fhir4.healow.com/fhir/r4/FEIGCD", at, block, limit)
				if err != nil {
					t.Error(err)
					return
				}
				if r.Granted == 0 {
					return
				}
				mu.Lock()
				total += r.Granted
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if total != limit {
		t.Fatalf("%d requests reserved in one minute, want exactly %d", total, limit)
	}
}

// BenchmarkReserveRequests is one reservation of a block against a store on disk: what a
// process pays, off the actor's loop, once every block of requests.
func BenchmarkReserveRequests(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "tokens.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for b.Loop() {
		if r, err := s.ReserveRequests(context.Background(), "https://fhir4.healow.com/fhir/r4/FEIGCD", at, 25, 1<<30); err != nil || r.Granted != 25 {
			b.Fatal(r, err)
		}
	}
}

package supervisor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// BenchmarkThousandPractices starts a tree over 1,000 stored practices and reports how long until
// every actor answers, the heap the tree holds, and how long one health collection over all of
// them takes. No practice is contacted: their tokens are valid, and health never touches the
// network.
func BenchmarkThousandPractices(b *testing.B) {
	const n = 1000
	store, err := vault.Open(filepath.Join(b.TempDir(), "tokens.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	secrets := vault.NewMemory()
	ctx := context.Background()
	for i := range n {
		id := vault.NewID()
		p := vault.Practice{ID: id, Name: fmt.Sprintf("Practice %04d", i), PatientID: "p",
			FHIRBaseURL: fmt.Sprintf("https://fhir.invalid/fhir/r4/P%05d", i), TokenExpiry: time.Now().Add(24 * time.Hour)}
		if err := store.Save(ctx, p); err != nil {
			b.Fatal(err)
		}
		secrets.Set(id, vault.AccessToken, "token")
	}
	var startup, collect time.Duration
	var heap uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		tree := supervisor.New(supervisor.Options{Practice: practice.Options{Store: store, Secrets: secrets}})
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { tree.Serve(ctx); close(done) }()
		for {
			hs, err := tree.Registry.Health(ctx)
			if err == nil && len(hs) == n && allReady(hs) {
				break
			}
		}
		startup += time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += after.HeapAlloc - before.HeapAlloc
		start = time.Now()
		if hs, err := tree.Registry.Health(ctx); err != nil || len(hs) != n {
			b.Fatal(err)
		}
		collect += time.Since(start)
		cancel()
		<-done
	}
	b.ReportMetric(float64(startup.Milliseconds())/float64(b.N), "startup-ms")
	b.ReportMetric(float64(collect.Microseconds())/1000/float64(b.N), "health-ms")
	b.ReportMetric(float64(heap)/float64(b.N)/(1<<20), "heap-MiB")
}

func allReady(hs []practice.Health) bool {
	for _, h := range hs {
		if h.State != practice.StateReady {
			return false
		}
	}
	return true
}

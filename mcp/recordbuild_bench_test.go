package mcp

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/practice"
)

// longRecord connects the first practice of a sandbox whose record is 5,011 resources and 200
// documents (sandbox.Options Visits and Notes), and returns tools to build its index with.
func longRecord(b *testing.B) (*tools, *practice.Actor) {
	b.Helper()
	env := testenv.Start(b, testenv.Options{
		Sandbox:  sandbox.Options{Visits: 352, Notes: 195, PageSize: MaxCount},
		Practice: practice.Options{RequestsPerMinute: 1 << 30}, // the build's own reads, not the limit
	})
	env.Connect(b, env.Sandbox.Practices()[0])
	ctx := context.Background()
	if err := env.Tree.Registry.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	actors, err := env.Tree.Registry.Actors(ctx)
	if err != nil || len(actors) != 1 {
		b.Fatalf("%d actors: %v", len(actors), err)
	}
	return &tools{reg: env.Tree.Registry, clock: unpaced{actor.Real}, readPDF: recordindex.PDFText}, actors[0]
}

// unpaced is the real clock but for its timers, which have already fired: the build's pacing,
// there to leave the patient most of the practice's rate limit, is not what is measured.
type unpaced struct{ actor.Clock }

func (unpaced) NewTimer(time.Duration) actor.Timer {
	c := make(chan time.Time, 1)
	c <- time.Now()
	return firedTimer(c)
}

type firedTimer chan time.Time

func (t firedTimer) C() <-chan time.Time { return t }
func (firedTimer) Stop() bool            { return false }

// BenchmarkRecordBuild reads a record of 5,011 resources and 200 documents from the sandbox over
// TLS, through the practice's actor, into a new index: what a search_record build costs beside
// the pacing that spreads it over minutes.
func BenchmarkRecordBuild(b *testing.B) {
	t, a := longRecord(b)
	ctx := context.Background()
	var idx *recordindex.Index
	var failed, unsearchable int
	var why string
	cpu := processCPU()
	for b.Loop() {
		idx, failed, unsearchable = recordindex.New(), 0, 0
		err := t.buildRecord(ctx, a, idx, func(s recordStep) {
			if s.failed != "" {
				failed, why = failed+1, s.failed
			}
			if s.unsearchable != "" {
				unsearchable++
			}
		})
		if err != nil || failed > 0 {
			b.Fatalf("build: %v, %d kinds failed: %s", err, failed, why)
		}
	}
	// CPU time says what a build costs whatever else the machine runs; it counts the sandbox's
	// side of each request too, which runs in this process.
	b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "process-cpu-ms/op")
	b.ReportMetric(float64(idx.Len()), "items")
	b.ReportMetric(float64(unsearchable), "unsearchable")
	b.ReportMetric(float64(heapOf(func() { idx = nil })), "index-bytes")
}

// BenchmarkRecordSearch is one search of that record's index: the words of a complaint, which
// tens of its notes hold.
func BenchmarkRecordSearch(b *testing.B) {
	t, a := longRecord(b)
	idx := recordindex.New()
	if err := t.buildRecord(context.Background(), a, idx, func(recordStep) {}); err != nil {
		b.Fatal(err)
	}
	var n int
	for b.Loop() {
		_, n = idx.Search("knee swelling", maxRecordMatches)
	}
	if n == 0 {
		b.Fatal("nothing found")
	}
	b.ReportMetric(float64(n), "matches")
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// heapOf is how many bytes of heap drop gives back.
func heapOf(drop func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	drop()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return before.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
}

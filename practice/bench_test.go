package practice

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/vault"
)

// The benchmarks below are the figures in docs/performance.md. Each sets a rate limit far above
// eCW's 250 a minute, since they measure the actor, not the limiter.
func benchOpts(o *Options) { o.RequestsPerMinute = 1 << 30 }

// BenchmarkDirectGET is the baseline: one GET of the same resource with the same HTTP client.
func BenchmarkDirectGET(b *testing.B) {
	w := newWorld(b, sandbox.Options{})
	id, p := w.connect(b, 0)
	token, _ := w.secrets.Get(id, vault.AccessToken)
	u := p.BaseURL + "/Patient/" + p.PatientID
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/fhir+json")
		resp, err := w.opts.HTTP.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkFetchThroughActor is the same GET sent as a message to the practice's actor.
func BenchmarkFetchThroughActor(b *testing.B) {
	w := newWorld(b, sandbox.Options{})
	id, p := w.connect(b, 0)
	a := w.serve(b, id, benchOpts)
	ctx := context.Background()
	for b.Loop() {
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConcurrentSlowPractice sends 64 calls at once to a practice that takes 50 ms per
// request: the actor must not serialise them, so one op should take about 50 ms, not 3.2 s.
func BenchmarkConcurrentSlowPractice(b *testing.B) {
	w := newWorld(b, sandbox.Options{})
	id, p := w.connect(b, 0)
	a := w.serve(b, id, benchOpts)
	w.sb.SetFaults(p.Code, sandbox.Faults{Latency: 50 * time.Millisecond})
	ctx := context.Background()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkRefreshCoalescing has 100 calls meet an expired token at once and reports the FHIR
// and token requests they cause per op: one refresh, 100 reads.
func BenchmarkRefreshCoalescing(b *testing.B) {
	clk := newClock()
	w := newWorld(b, sandbox.Options{}, clk)
	id, p := w.connect(b, 0)
	a := w.serve(b, id, benchOpts)
	ctx := context.Background()
	before := w.sb.Stats()
	for b.Loop() {
		clk.Advance(2 * time.Hour) // the token has expired
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	after := w.sb.Stats()
	b.ReportMetric(float64(after.RefreshGrants-before.RefreshGrants)/float64(b.N), "token-requests/op")
	b.ReportMetric(float64(after.FHIRRequests-before.FHIRRequests)/float64(b.N), "fhir-requests/op")
}

// BenchmarkHealthyBesideFailing measures one practice's latency while another, served beside it,
// hangs on every request (so its calls pile up until they time out), against the same without
// the failing one's load. It reports the healthy practice's median and 95th percentile.
func BenchmarkHealthyBesideFailing(b *testing.B) {
	for _, failing := range []bool{false, true} {
		name := "alone"
		if failing {
			name = "beside-failing"
		}
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, sandbox.Options{})
			wellID, wellP := w.connect(b, 0)
			sickID, sickP := w.connect(b, 1)
			well := w.serve(b, wellID, benchOpts)
			sick := w.serve(b, sickID, func(o *Options) {
				benchOpts(o)
				o.RequestTimeout, o.BreakerFailures = 2*time.Second, 1<<30
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var load sync.WaitGroup
			if failing {
				w.sb.SetFaults(sickP.Code, sandbox.Faults{Hang: true})
				for range 32 {
					load.Go(func() {
						for ctx.Err() == nil {
							sick.Fetch(ctx, patientRead(sickP))
						}
					})
				}
			}
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := well.Fetch(context.Background(), patientRead(wellP)); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			cancel()
			load.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
		})
	}
}

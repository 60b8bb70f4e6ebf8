package mcp_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

// largeBundle is a searchset Bundle of about size bytes of Observations with narratives.
func largeBundle(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":100000,"entry":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"resource":{"resourceType":"Observation","id":"o%d","text":{"status":"generated","div":"<div>%s</div>"},`+
			`"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},"valueQuantity":{"value":13.5,"unit":"g/dL"}},"search":{"mode":"match"}}`,
			i, strings.Repeat("Hemoglobin 13.5 g/dL ", 20))
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkConcurrentLargeAnswers has 64 calls of search_observation read a 15 MiB page each at
// once, and reports the process's peak heap (sampled every 5 ms) besides the budget's own peak:
// with the default budget, and with one too large to bind, as before there was one.
func BenchmarkConcurrentLargeAnswers(b *testing.B) {
	body := largeBundle(15 << 20)
	for _, bc := range []struct {
		name   string
		budget int64
	}{{"budget-128MiB", practice.DefaultBudget}, {"unbounded", 1 << 40}} {
		b.Run(bc.name, func(b *testing.B) {
			budget := practice.NewBudget(bc.budget)
			r, cs := startRogue(b, func(o *practice.Options) { o.Budget, o.RequestTimeout = budget, 5*time.Minute })
			r.set(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/fhir+json")
				w.Write(body)
			}, false)
			runtime.GC()
			var peak uint64
			stop := make(chan struct{})
			sampled := make(chan struct{})
			go func() {
				defer close(sampled)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			for b.Loop() {
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "search_observation"})
						if err != nil || res.IsError {
							b.Errorf("search_observation: %v %+v", err, res.Content[0])
						}
					})
				}
				wg.Wait()
			}
			close(stop)
			<-sampled
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(budget.Peak())/(1<<20), "peak-budget-MiB")
		})
	}
}

package mcp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// BenchmarkPatientSummary times patient_summary over 1, 2, 5 and 10 sandbox practices that each
// answer every FHIR request benchLatency late: the practices are asked at once, and each
// practice's kinds of record at once, so ten practices cost far less than ten times one.
func BenchmarkPatientSummary(b *testing.B) {
	for _, n := range []int{1, 2, 5, 10} {
		b.Run(fmt.Sprintf("practices=%d", n), func(b *testing.B) {
			env := testenv.Start(b, testenv.Options{Sandbox: sandbox.Options{Practices: n}})
			ps := env.Sandbox.Practices()[:n]
			for _, p := range ps {
				env.Connect(b, p)
				env.Sandbox.SetFaults(p.Code, sandbox.Faults{Latency: benchLatency})
			}
			if err := env.Tree.Registry.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			cs, end, err := mcp.ConnectInMemory(context.Background(), mcp.NewServer(env.Tree.Registry), "bench")
			if err != nil {
				b.Fatal(err)
			}
			defer end()
			summarise := func() {
				res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "patient_summary", Arguments: map[string]any{}})
				if err != nil || res.IsError {
					b.Fatalf("patient_summary: %v %+v", err, res)
				}
			}
			summarise() // each actor reads its practice's CapabilityStatement once
			b.ResetTimer()
			for b.Loop() {
				summarise()
			}
		})
	}
}

// benchLatency is how late each practice answers: about what a healow practice across the
// internet takes for a small search.
const benchLatency = 50 * time.Millisecond

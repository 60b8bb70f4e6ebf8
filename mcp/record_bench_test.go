package mcp_test

import (
	"context"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// BenchmarkSearchRecordCall is one search_record call over the sandbox's two practices once
// their indexes are built: the MCP round trip in memory, the registry's and the indexes actor's
// answers, and the two searches.
func BenchmarkSearchRecordCall(b *testing.B) {
	env := testenv.Start(b, testenv.Options{})
	for _, p := range env.Sandbox.Practices()[:2] {
		env.Connect(b, p)
	}
	if err := env.Tree.Registry.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	cs, end, err := mcp.ConnectInMemory(context.Background(), mcp.NewServer(env.Tree.Registry, inProcessPDFs), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer end()
	params := &sdk.CallToolParams{Name: "search_record", Arguments: map[string]any{"text": "complaints"}}
	if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
		b.Fatalf("the first call, which builds: %v %+v", err, res)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := cs.CallTool(context.Background(), params); err != nil || res.IsError {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

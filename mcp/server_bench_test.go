package mcp_test

import (
	"testing"

	"github.com/healow-mcp/healow-mcp/mcp"
)

// BenchmarkNewServer is building the server: every tool's input and output schemas inferred and
// resolved, which healow serve does before it can answer initialize.
func BenchmarkNewServer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		mcp.NewServer(nil)
	}
}

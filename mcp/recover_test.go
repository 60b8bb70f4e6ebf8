package mcp_test

import (
	"context"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// A tool that panics answers with a tool error, and the server goes on serving.
func TestPanicInAToolIsAToolError(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	s := mcp.NewServer(env.Tree.Registry)
	type in struct{}
	sdk.AddTool(s, &sdk.Tool{Name: "boom"}, func(context.Context, *sdk.CallToolRequest, in) (*sdk.CallToolResult, any, error) {
		var m map[string]int
		m["x"]++ // a nil map write: a real bug's panic, not a pretend one
		return nil, nil, nil
	})
	ctx := context.Background()
	cs := connect(t, s)
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "boom"})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*sdk.TextContent).Text, "still running") {
		t.Fatalf("boom: %v %+v", err, res)
	}
	if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_practices"}); err != nil {
		t.Fatalf("the server died with the panic: %v", err)
	}
}

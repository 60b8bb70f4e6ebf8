package mcp_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// A server whose registry is still loading answers initialize, lists every tool and refuses bad
// arguments; a tool called meanwhile waits, and once the registry is handed over it sees every
// stored practice.
func TestToolCallsWaitForTheRegistry(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	ps := env.Sandbox.Practices()
	for _, p := range ps[:2] {
		env.Connect(t, p)
	}
	// The connector stored them as another process would; the registry, running already, hears
	// of them at its next poll of the store, which a call answered at once could precede.
	if err := env.Tree.Registry.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := mcp.NewLoading()
	cs := connect(t, mcp.NewServerLoading(l)) // initialize, answered before any registry
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) < 20 {
		t.Fatalf("tools/list while loading: %d tools, %v", len(tools.Tools), err)
	}
	// Arguments are checked without the registry, so a bad one is refused at once.
	callErr(t, cs, "whoami", map[string]any{"practice": 5}, "practice: 5 is not text")

	type answer struct {
		text  string
		isErr bool
	}
	answered := make(chan answer, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "list_practices"})
		if err != nil {
			answered <- answer{err.Error(), true}
			return
		}
		answered <- answer{res.Content[0].(*sdk.TextContent).Text, res.IsError}
	}()
	select {
	case a := <-answered:
		t.Fatalf("list_practices answered before the registry was handed over: %+v", a)
	default:
	}
	l.Done(env.Tree.Registry, nil)
	a := <-answered
	if a.isErr || !strings.Contains(a.text, ps[0].Name) || !strings.Contains(a.text, ps[1].Name) {
		t.Fatalf("list_practices = %+v, want both practices", a)
	}
	callOK(t, cs, "whoami", map[string]any{"practice": ps[1].Name}, &struct{}{})
}

// A registry that could not be loaded fails every tool call with why and what to do, and the
// server goes on answering.
func TestToolCallsWhenTheStoreCannotBeOpened(t *testing.T) {
	t.Parallel()
	failed := mcp.NewLoading()
	failed.Done(nil, errors.New("the token store /x/tokens.db is damaged: move it out of the way"))
	cs := connect(t, mcp.NewServerLoading(failed))
	for range 2 {
		callErr(t, cs, "list_practices", nil, "healow serves no practice", "/x/tokens.db is damaged: move it out of the way", "restart the MCP client")
	}
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatalf("tools/list after a failed load: %v", err)
	}
}

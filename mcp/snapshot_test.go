package mcp_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// listTools lists the tools as a client sees them; listing needs no practice.
func listTools(t *testing.T) []*sdk.Tool {
	t.Helper()
	res, err := connect(t, mcp.NewServer(nil)).ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools
}

// TestToolSnapshots keeps every tool's name, description, annotations and input and output
// schemas under testdata/tools, so that a change to what the model sees shows in review.
// HEALOW_UPDATE_SNAPSHOTS=1 rewrites them.
func TestToolSnapshots(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "tools")
	update := os.Getenv(testenv.UpdateVar) == "1"
	var names []string
	for _, tool := range listTools(t) {
		names = append(names, tool.Name+".json")
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		testenv.Golden(t, filepath.Join(dir, tool.Name+".json"), append(got, '\n'))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		if !slices.Contains(names, filepath.Base(f)) {
			if update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s snapshots a tool the server no longer lists; if that is meant, run HEALOW_UPDATE_SNAPSHOTS=1 go test ./mcp to remove it", f)
		}
	}
}

// Every tool says what it returns (a sentence at least: the descriptions are kept short, since
// the list is sent with every model turn) and carries every annotation explicitly; reads are
// read-only, idempotent and not destructive, and disconnect_practice alone is destructive. Its
// display name is annotations.title alone, which clients show when a tool has no title of its
// own (MCP: title, else annotations.title, else name): a tool's title would be sent to the model
// with every turn as well, 800 bytes for the 31 tools.
func TestEveryToolIsAnnotatedAndDescribed(t *testing.T) {
	t.Parallel()
	tools := listTools(t)
	if len(tools) < 27 {
		t.Fatalf("%d tools", len(tools))
	}
	for _, tool := range tools {
		a := tool.Annotations
		if a == nil || a.Title == "" || tool.Title != "" || len(tool.Description) < 50 ||
			a.DestructiveHint == nil || a.OpenWorldHint == nil {
			t.Errorf("tool %s lacks an annotations title, a description or explicit annotations, or has a title of its own: %+v", tool.Name, a)
			continue
		}
		destructive := tool.Name == "disconnect_practice"
		writes := tool.Name == "connect_practice" || tool.Name == "complete_oauth" || destructive
		if a.ReadOnlyHint == writes || *a.DestructiveHint != destructive || !writes && !a.IdempotentHint {
			t.Errorf("tool %s: readOnly %v, idempotent %v, destructive %v", tool.Name, a.ReadOnlyHint, a.IdempotentHint, *a.DestructiveHint)
		}
		if tool.InputSchema == nil {
			t.Errorf("tool %s has no input schema", tool.Name)
		}
		fixed := strings.HasPrefix(tool.Name, "search_") || strings.HasPrefix(tool.Name, "list_") ||
			(strings.HasPrefix(tool.Name, "get_") && tool.Name != "get_binary")
		if fixed && tool.OutputSchema == nil {
			t.Errorf("tool %s returns a fixed shape but declares no output schema", tool.Name)
		}
	}
}

package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// A store with garbage over its pages makes `healow serve` answer every tool call with the
// advice (rather than leave every practice's tools hanging) and exit with status 1 when its
// client leaves, and `healow status` fail as its contract says for a store it cannot read (exit
// 1); each names the file and says what to do.
func TestDamagedStoreStopsServeAndStatusWithAdvice(t *testing.T) {
	t.Parallel()
	path := testenv.ClosedStore(t, "Sunrise", "Lakeside")
	testenv.DamageStore(t, path, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(os.Environ(), "HEALOW_CLIENT_ID=c", "HEALOW_CLIENT_SECRET=s", "HEALOW_REDIRECT_URI=http://127.0.0.1:1/cb",
		"HEALOW_TOKEN_STORE="+path))
	advice := []string{path, "damaged", "move the file out of the way", "healow connect", "keychain"}
	t.Run("a tool call", func(t *testing.T) {
		cs := c.serve(t, "damaged", nil)
		defer cs.Close()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "list_practices"})
		if err != nil || !res.IsError {
			t.Fatalf("list_practices with a damaged store = %+v, %v", res, err)
		}
		text := res.Content[0].(*sdk.TextContent).Text
		for _, want := range append(advice, "restart the MCP client") {
			if !strings.Contains(text, want) {
				t.Fatalf("list_practices does not say %q: %s", want, text)
			}
		}
	})
	for _, args := range [][]string{{"serve"}, {"status"}, {"status", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, code := c.run(t, args...)
			if code != 1 {
				t.Fatalf("healow %v exited %d, want 1: %s", args, code, out)
			}
			for _, want := range advice {
				if !strings.Contains(out, want) {
					t.Fatalf("healow %v does not say %q: %s", args, want, out)
				}
			}
		})
	}
}

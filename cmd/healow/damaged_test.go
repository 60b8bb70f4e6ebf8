package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// A store with garbage over its pages stops `healow serve` at once (it no longer starts to leave
// every practice's tools hanging), and `healow status` fails as its contract says for a store it
// cannot read (exit 1); both name the file and say what to do.
func TestDamagedStoreStopsServeAndStatusWithAdvice(t *testing.T) {
	t.Parallel()
	path := testenv.ClosedStore(t, "Sunrise", "Lakeside")
	testenv.DamageStore(t, path, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(os.Environ(), "HEALOW_CLIENT_ID=c", "HEALOW_CLIENT_SECRET=s", "HEALOW_REDIRECT_URI=http://127.0.0.1:1/cb",
		"HEALOW_TOKEN_STORE="+path))
	for _, args := range [][]string{{"serve"}, {"status"}, {"status", "--json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, code := c.run(t, args...)
			if code != 1 {
				t.Fatalf("healow %v exited %d, want 1: %s", args, code, out)
			}
			for _, want := range []string{path, "damaged", "move the file out of the way", "healow connect", "keychain"} {
				if !strings.Contains(out, want) {
					t.Fatalf("healow %v does not say %q: %s", args, want, out)
				}
			}
		})
	}
}

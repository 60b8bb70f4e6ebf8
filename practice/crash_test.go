package practice

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// A process that dies at any step of a refresh leaves a practice the next process can use,
// except after the practice has used up the refresh token and before the new one was stored:
// then the next process says so plainly instead of failing obscurely.
func TestCrashAtAnyStepOfARefresh(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		step     string
		survives bool
	}{
		{"leased", true},         // nothing was spent
		{"exchanged", false},     // the practice used the old token up; the new one died with the process
		{"stored-refresh", true}, // the new refresh token is safe; the old access token may still work
		{"stored-access", true},  // the store still has the old expiry; the new access token is in the keychain
		{"recorded", true},       // everything stored; only the lease is left behind, and it lapses
	} {
		t.Run(tc.step, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			first := newWorld(t, sandbox.Options{}, clk)
			id, p := first.connect(t, 0)
			clk.Advance(2 * time.Hour) // the access token has expired: the next call refreshes
			var crashes atomic.Int32
			dying := first.serve(t, id, func(o *Options) {
				o.LeaseTTL = time.Second
				o.crashAt = func(step string) bool { return step == tc.step && crashes.Add(1) == 1 }
			})
			ctx := context.Background()
			if _, err := dying.Fetch(ctx, patientRead(p)); err == nil || crashes.Load() != 1 {
				t.Fatalf("the refresh did not crash at %s: %v", tc.step, err)
			}
			dying.Close() // the process is gone

			second := first.share(t)
			next := second.serve(t, id, func(o *Options) { o.LeaseTTL = time.Second })
			// The dead process's lease lapses within a second of real time; the next refresh waits for it.
			_, err := next.Fetch(ctx, patientRead(p))
			if tc.survives {
				if err != nil {
					t.Fatalf("after a crash at %s the practice does not work: %v", tc.step, err)
				}
				return
			}
			if !errors.Is(err, ErrNeedsReconnect) || !strings.Contains(err.Error(), "stopped while renewing") ||
				!strings.Contains(err.Error(), "healow connect --name") {
				t.Fatalf("after a crash at %s: %v", tc.step, err)
			}
		})
	}
}

package supervisor_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
)

// Two healow processes on one machine (two trees, as Claude Desktop's `healow serve` and another
// client's) put sustained load on one practice that, as eCW does, answers 429 past 250 requests
// in a wall-clock minute and refuses the rest of the minute. Sharing one store, they keep to the
// 250 together, over three minutes: no 429 at all, and the budget is used in full. Early in a
// minute the calls past the budget are refused with the time it frees; in its last seconds they
// are held until the minute turns. Each with a store of its own, as before the budget was shared,
// they count 250 each and meet the practice's 429s.
func TestTwoProcessesKeepOneBudgetPerMinute(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{true, false} {
		name := map[bool]string{true: "one store", false: "a store each"}[shared]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := testenv.EarlyInTheMinute() // 5 s into a minute
			env := testenv.Start(t, testenv.Options{Clock: clock})
			sp := env.Sandbox.Practices()[0]
			first := env.Connect(t, sp)
			other := env.Beside(t, shared)
			secondID := first.ID
			if !shared {
				secondID = other.Connect(t, sp).ID
			}
			actors := []*practice.Actor{env.Actor(t, first.ID), other.Actor(t, secondID)}
			env.Sandbox.SetFaults(sp.Code, sandbox.Faults{RateLimit: 250})

			per := load(t, clock, actors, sp, 3)
			got := env.Sandbox.Stats().RateLimited
			t.Logf("%s: requests answered per minute %v, 429s %d", name, per, got)
			if !shared {
				if got == 0 {
					t.Fatal("two processes counting apart met no 429: the test proves nothing")
				}
				return
			}
			if got != 0 {
				t.Fatalf("the practice answered 429 %d times", got)
			}
			for i, n := range per {
				if n > 250 || n < 240 {
					t.Fatalf("minute %d: %d requests answered, want close to 250 and never more", i, n)
				}
			}
		})
	}
}

// load has four callers per actor read the patient over and over, minute after minute. In each
// minute they read until refused (the minute's budget spent, or a 429), then call again in the
// minute's last ten seconds and are held until it turns (on the 429's hold, or for the next
// minute's budget), when the clock moves on and the next minute begins with them. It returns the
// reads answered in each minute.
func load(t *testing.T, clock *actor.Fake, actors []*practice.Actor, sp sandbox.Practice, minutes int) []int {
	t.Helper()
	const callers = 4
	ctx := context.Background()
	read := practice.Request{Resource: "Patient", ID: sp.PatientID}
	per := make([]int, minutes)
	var answered atomic.Int64
	untilRefused := func(a *practice.Actor) {
		for {
			_, err := a.Fetch(ctx, read)
			if err != nil {
				var fe *practice.FHIRError
				if !errors.Is(err, practice.ErrRateLimited) && !(errors.As(err, &fe) && fe.Status == 429) {
					t.Errorf("a read failed otherwise: %v", err)
				}
				return
			}
			answered.Add(1)
		}
	}
	var wg sync.WaitGroup
	run := func() {
		for _, a := range actors {
			for range callers {
				wg.Go(func() { untilRefused(a) })
			}
		}
	}
	run()
	for m := range minutes {
		wg.Wait()
		per[m] = int(answered.Swap(0))
		if m == minutes-1 {
			break
		}
		// Ten seconds before the minute turns the callers come back and are held: their
		// waits are armed on the clock, beside each actor's refresh timer.
		armed := clock.Timers()
		clock.Set(clock.Now().Truncate(time.Minute).Add(50 * time.Second))
		run()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a guard: they are held at once or never
		if err := clock.WaitTimers(wctx, armed+callers*len(actors)); err != nil {
			t.Fatal(fmt.Errorf("the callers were not held for the next minute: %w", err))
		}
		cancel()
		clock.Set(clock.Now().Truncate(time.Minute).Add(time.Minute + time.Second)) // past a 429's hold and its jitter
	}
	return per
}

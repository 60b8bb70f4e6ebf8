package practice

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// waiting runs fetch with a progress reporter and returns the step it reports: the wait it
// begins. It then lets the wait pass on clk, once the request has armed it, and returns the
// fetch's error. A fetch that goes at once reports nothing: ok is false.
func waiting(t *testing.T, clk *actor.Fake, a *Actor, req Request, after func()) (step Step, ok bool, err error) {
	t.Helper()
	armed := clk.Timers()
	steps := make(chan Step, 8)
	done := make(chan error, 1)
	ctx := WithProgress(context.Background(), func(s Step) { steps <- s })
	go func() { _, err := a.Fetch(ctx, req); done <- err }()
	for {
		select {
		case err := <-done:
			return step, ok, err
		case s := <-steps:
			if ok {
				t.Fatalf("a second step %+v after %+v", s, step)
			}
			step, ok = s, true
			// The attempt before has given its deadline back; the wait is the one timer more.
			if err := clk.WaitTimers(context.Background(), armed+1); err != nil {
				t.Fatal(err)
			}
			if after != nil {
				after()
			}
			clk.Set(s.Until)
		}
	}
}

// Each wait a request meets is told to its caller as it begins: what it waits for, until when,
// and for a retry which attempt comes and why, in words that name the practice and nothing of
// the patient.
func TestProgressTellsEachWait(t *testing.T) {
	t.Parallel()
	late := func() *actor.Fake { // 50 s into a minute: the hold after a 429 ends within MaxRetryWait
		return actor.NewFake(time.Now().Truncate(time.Minute).Add(time.Minute + 50*time.Second))
	}
	cases := []struct {
		name  string
		clock *actor.Fake
		tweak func(*Options)
		// run makes the practice misbehave and fetches; it returns the step and the outcome.
		run  func(t *testing.T, w *world, clk *actor.Fake, a *Actor, p sandbox.Practice) (Step, bool, error)
		want Step
		says []string
	}{{
		name:  "a retry after a 500",
		clock: newClock(),
		run: func(t *testing.T, w *world, clk *actor.Fake, a *Actor, p sandbox.Practice) (Step, bool, error) {
			w.sb.SetFaults(p.Code, sandbox.Faults{FailNext: 1})
			return waiting(t, clk, a, patientRead(p), nil)
		},
		want: Step{Wait: WaitRetry, Attempt: 2, Attempts: 3, Failure: "HTTP 500"},
		says: []string{"failed (HTTP 500)", "trying again at", "attempt 2 of 3"},
	}, {
		name:  "a retry after a 429, held until the minute turns",
		clock: late(),
		run: func(t *testing.T, w *world, clk *actor.Fake, a *Actor, p sandbox.Practice) (Step, bool, error) {
			w.sb.SetFaults(p.Code, sandbox.Faults{TooManyRequests: true})
			return waiting(t, clk, a, patientRead(p), func() { w.sb.SetFaults(p.Code, sandbox.Faults{}) })
		},
		want: Step{Wait: WaitRetry, Attempt: 2, Attempts: 3, Failure: "HTTP 429, too many requests"},
		says: []string{"failed (HTTP 429, too many requests)", "attempt 2 of 3"},
	}, {
		name:  "a first attempt that meets the hold another request's 429 left",
		clock: late(),
		tweak: func(o *Options) { o.MaxRetries = -1 },
		run: func(t *testing.T, w *world, clk *actor.Fake, a *Actor, p sandbox.Practice) (Step, bool, error) {
			w.sb.SetFaults(p.Code, sandbox.Faults{TooManyRequests: true})
			if _, err := a.Fetch(context.Background(), patientRead(p)); err == nil {
				t.Fatal("the 429 was not an error")
			}
			w.sb.SetFaults(p.Code, sandbox.Faults{})
			return waiting(t, clk, a, patientRead(p), nil)
		},
		want: Step{Wait: WaitHold, Attempt: 1, Attempts: 0},
		says: []string{"answered 429 (too many requests): waiting until", "accepts requests again"},
	}, {
		name:  "the budget per minute",
		clock: late(),
		tweak: func(o *Options) { o.RequestsPerMinute = 6 }, // the seventh request waits for the minute to turn, 10 s away
		run: func(t *testing.T, w *world, clk *actor.Fake, a *Actor, p sandbox.Practice) (Step, bool, error) {
			for range 10 {
				if s, ok, err := waiting(t, clk, a, patientRead(p), nil); ok || err != nil {
					return s, ok, err
				}
			}
			return Step{}, false, nil
		},
		want: Step{Wait: WaitRateLimit, Attempt: 1, PerMinute: 6},
		says: []string{"waiting for the rate limit of", "6 requests a minute, HEALOW_RATE_LIMIT"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sandbox.Options{}, c.clock)
			id, p := w.connect(t, 0)
			a := w.serve(t, id, c.tweak)
			if _, err := a.Health(context.Background()); err != nil { // loaded: its refresh timer is armed
				t.Fatal(err)
			}
			start := c.clock.Now()
			step, ok, err := c.run(t, w, c.clock, a, p)
			if err != nil || !ok {
				t.Fatalf("reported %v, fetch: %v", ok, err)
			}
			if step.Until.Before(start) || step.Until.Sub(start) > DefaultMaxRetryWait {
				t.Fatalf("waits until %s, from %s", step.Until, start)
			}
			want := c.want
			want.Practice, want.Until = p.Name, step.Until
			if want.Attempts == 0 {
				want.Attempts = step.Attempts // not a retry: said nowhere
			}
			if step != want {
				t.Fatalf("step = %+v, want %+v", step, want)
			}
			msg := step.String()
			for _, s := range append(c.says, p.Name, clock(step.Until)) {
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not say %q", msg, s)
				}
			}
			if strings.Contains(msg, p.PatientID) {
				t.Errorf("%q names the patient", msg)
			}
		})
	}
}

// Without a reporter, a wait is waited all the same and nothing is told.
func TestNoProgressWithoutReporter(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	dispatched := make(chan Request, 8)
	a := w.serve(t, id, func(o *Options) { o.onDispatch = func(r Request) { dispatched <- r } })
	if _, err := a.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.sb.SetFaults(p.Code, sandbox.Faults{FailNext: 1})
	if progressOf(context.Background()) != nil {
		t.Fatal("a context without a reporter has one")
	}
	if err := passRetries(t, clk, dispatched, func() error { _, err := a.Fetch(context.Background(), patientRead(p)); return err }); err != nil {
		t.Fatal(err)
	}
}

package practice

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// atSecond is a fake clock s seconds into a minute (of the wall clock's time now).
func atSecond(s int) *actor.Fake {
	return actor.NewFake(time.Now().Truncate(time.Minute).Add(time.Minute + time.Duration(s)*time.Second))
}

// Late in a minute whose budget is spent, a call is held until the minute turns (it is within
// MaxRetryWait) and then goes in the next minute's budget: the practice, counting three a
// minute as eCW counts 250, never answers 429.
func TestSpentMinuteHoldsACallUntilItTurns(t *testing.T) {
	t.Parallel()
	clk := atSecond(45)
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	a := w.serve(t, id, func(o *Options) { o.RequestsPerMinute = 3 })
	w.sb.SetFaults(p.Code, sandbox.Faults{RateLimit: 3})
	ctx := context.Background()
	for i := range 3 {
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			t.Fatalf("read %d: %v", i+1, err)
		}
	}
	armed := clk.Timers()
	held := make(chan error, 1)
	go func() { _, err := a.Fetch(ctx, patientRead(p)); held <- err }()
	guard, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := clk.WaitTimers(guard, armed+1); err != nil {
		t.Fatalf("the fourth read was not held: %v", err)
	}
	select {
	case err := <-held:
		t.Fatalf("the fourth read did not wait for the minute to turn: %v", err)
	default:
	}
	h, _ := a.Health(ctx)
	if h.State != StateRateLimited || h.RateLimitedBy != LimitedByBudget {
		t.Fatalf("health while held: %s by %q", h.State, h.RateLimitedBy)
	}
	clk.Set(clk.Now().Truncate(time.Minute).Add(time.Minute))
	if err := <-held; err != nil {
		t.Fatalf("the held read: %v", err)
	}
	if n := w.sb.Stats().RateLimited; n != 0 {
		t.Fatalf("the practice answered 429 %d times", n)
	}
	if h, _ := a.Health(ctx); h.State != StateReady || h.RateLeft != 2 {
		t.Fatalf("in the new minute: %s, %d left; want ready with 2 left", h.State, h.RateLeft)
	}
}

// eCW counts /token against the same budget: an expired token's refresh takes one of the
// minute's requests.
func TestTokenRequestsCountAgainstTheBudget(t *testing.T) {
	t.Parallel()
	clk := atSecond(5)
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	a := w.serve(t, id, func(o *Options) { o.RequestsPerMinute = 2 })
	w.sb.SetFaults(p.Code, sandbox.Faults{RateLimit: 2})
	clk.Advance(2 * time.Hour) // the access token has expired; still five seconds into a minute
	ctx := context.Background()
	before := w.sb.Stats()
	if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
		t.Fatal(err)
	}
	_, err := a.Fetch(ctx, patientRead(p))
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "HEALOW_RATE_LIMIT") {
		t.Fatalf("a third request in the minute: %v; want it refused by the budget", err)
	}
	after := w.sb.Stats()
	if after.RefreshGrants != before.RefreshGrants+1 || after.RateLimited != 0 {
		t.Fatalf("refreshes %d, 429s %d; want one refresh and no 429", after.RefreshGrants-before.RefreshGrants, after.RateLimited)
	}
}

// A store that takes no reservation (here, closed under the actor) stops no read: the process
// keeps the limit alone, in the same per-minute shape, and says so in the log once, without
// the patient's id.
func TestStoreThatTakesNoReservationsStopsNoReads(t *testing.T) {
	t.Parallel()
	clk := atSecond(5)
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	var log syncBuffer
	a := w.serve(t, id, func(o *Options) {
		o.RequestsPerMinute = 3
		o.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	if _, err := a.Health(ctx); err != nil { // loaded from the store
		t.Fatal(err)
	}
	w.store.Close()
	for i := range 3 {
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			t.Fatalf("read %d without the store: %v", i+1, err)
		}
	}
	_, err := a.Fetch(ctx, patientRead(p))
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "this process") {
		t.Fatalf("a fourth read in the minute: %v; want it refused by this process's count", err)
	}
	h, _ := a.Health(ctx)
	if !h.RateUnshared || h.RateLeft != 0 {
		t.Fatalf("health: unshared %v, %d left", h.RateUnshared, h.RateLeft)
	}
	out := log.String()
	if n := strings.Count(out, "takes no reservations"); n != 1 {
		t.Fatalf("said %d times that the store takes no reservations, want once:\n%s", n, out)
	}
	if strings.Contains(out, p.PatientID) {
		t.Fatalf("the log names the patient:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer that a logger and a test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A caller is held for the rate limit only within MaxRetryWait of when it called, counted over
// its retries too: a read answered 503 fifteen seconds in, whose retry then finds the minute's
// budget spent until the minute turns thirty seconds in, fails at once with the time it frees
// instead of being held for it.
func TestRetriesDoNotStretchTheWait(t *testing.T) {
	t.Parallel()
	held, gate := make(chan struct{}, 1), make(chan struct{})
	var attempts atomic.Int32
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation/o1": func(w http.ResponseWriter, r *http.Request) {
			if attempts.Add(1) == 1 {
				held <- struct{}{}
				<-gate
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	})
	clk := atSecond(30)
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) {
		o.Clock, o.RequestsPerMinute, o.RequestTimeout, o.MaxRetries = clk, 2, time.Minute, 3
	})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := h.actor.Fetch(ctx, Request{Resource: "Observation", ID: "o1"})
		done <- err
	}()
	<-held
	if _, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-1"}); err != nil { // the minute's second request
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(15 * time.Second)) // the practice answers 503 fifteen seconds in
	close(gate)
	turn := clk.Now().Truncate(time.Minute).Add(time.Minute)
	guard, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "free at "+clock(turn)) {
			t.Fatalf("err = %v; want a refusal saying the budget frees at %s", err, clock(turn))
		}
	case <-guard.Done():
		t.Fatalf("the retry is held until %s, %s after the call", clock(turn), turn.Sub(clk.Now().Add(-15*time.Second)))
	}
	if n := attempts.Load(); n != 1 {
		t.Fatalf("the practice was asked %d times", n)
	}
}

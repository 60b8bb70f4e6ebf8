package practice

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/vault"
)

// passRetries runs fetch while moving clk past the backoff of each retry the actor dispatches
// (every dispatch after the first), once the retry's wait is armed: the n timers armed before it
// and its own.
func passRetries(t *testing.T, clk *actor.Fake, dispatched <-chan Request, fetch func() error) error {
	t.Helper()
	armed := clk.Timers()
	done := make(chan error, 1)
	go func() { done <- fetch() }()
	<-dispatched // the first attempt goes at once
	for {
		select {
		case err := <-done:
			return err
		case <-dispatched:
			if err := clk.WaitTimers(context.Background(), armed+1); err != nil {
				t.Fatal(err)
			}
			clk.Advance(5 * time.Second) // the longest backoff
		}
	}
}

func TestBurstOf5xxIsRetriedAway(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	dispatched := make(chan Request, 8)
	a := w.serve(t, id, func(o *Options) { o.onDispatch = func(r Request) { dispatched <- r } })
	w.sb.SetFaults(p.Code, sandbox.Faults{FailNext: 2})
	if _, err := a.Health(context.Background()); err != nil { // loaded: its refresh timer is armed
		t.Fatal(err)
	}
	err := passRetries(t, clk, dispatched, func() error { _, err := a.Fetch(context.Background(), patientRead(p)); return err })
	if err != nil {
		t.Fatalf("a burst of two 500s was not retried away: %v", err)
	}
	h, _ := a.Health(context.Background())
	if h.Retries != 2 || h.Succeeded != 1 || h.State != StateReady {
		t.Fatalf("health = %+v", h)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	dispatched := make(chan Request, 8)
	a := w.serve(t, id, func(o *Options) { o.MaxRetries, o.onDispatch = 2, func(r Request) { dispatched <- r } })
	w.sb.SetFaults(p.Code, sandbox.Faults{Unavailable: true})
	if _, err := a.Health(context.Background()); err != nil { // loaded: its refresh timer is armed
		t.Fatal(err)
	}
	before := w.sb.Stats().FHIRRequests
	err := passRetries(t, clk, dispatched, func() error { _, err := a.Fetch(context.Background(), patientRead(p)); return err })
	var fe *FHIRError
	if !errors.As(err, &fe) || fe.Status != 503 {
		t.Fatalf("err = %v", err)
	}
	if n := w.sb.Stats().FHIRRequests - before; n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestRateLimitHoldsUntilTheMinuteTurns(t *testing.T) {
	t.Parallel()
	clk := actor.NewFake(time.Now().Truncate(time.Minute).Add(time.Minute + 5*time.Second))
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	a := w.serve(t, id, func(o *Options) { o.MaxRetryWait = time.Millisecond })
	w.sb.SetFaults(p.Code, sandbox.Faults{TooManyRequests: true})
	ctx := context.Background()
	_, err := a.Fetch(ctx, patientRead(p))
	if err == nil || !strings.Contains(err.Error(), "accepts requests again at") {
		t.Fatalf("err = %v", err)
	}
	h, _ := a.Health(ctx)
	next := clk.Now().Truncate(time.Minute).Add(time.Minute)
	if h.State != StateRateLimited || h.RateLimitedUntil.Before(next) || h.RateLimitedUntil.After(next.Add(time.Second)) {
		t.Fatalf("health = %s until %v, want until %v (+ jitter)", h.State, h.RateLimitedUntil, next)
	}
	// The hold keeps further requests off the practice instead of earning more 429s; a hold
	// longer than MaxRetryWait is not waited out but told.
	before := w.sb.Stats().FHIRRequests
	_, err = a.Fetch(ctx, patientRead(p))
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), clock(h.RateLimitedUntil)) || w.sb.Stats().FHIRRequests != before {
		t.Fatalf("a held request went out, or its error does not say when to come back: %v", err)
	}
}

// A call is held for a rate limit only when it frees within MaxRetryWait (20 s); otherwise it
// fails at once with the time it frees, whether the limit is the minute's budget, a 429's
// hold met by a request, or a hold met by the refresh an expired token needs. The clock is the
// test's, so the waits computed are long while no test waits for them; the 10 s deadline only
// turns a call that would be held into a failure instead of a hung test.
func TestRateLimitedCallsWaitAtMostMaxRetryWait(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	var hits atomic.Int32
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation/pat-1": func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
		},
	})
	fetch := func(h *harness, resource string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := h.actor.Fetch(ctx, Request{Resource: resource, ID: "pat-1"})
		return err
	}

	t.Run("the minute's budget", func(t *testing.T) {
		// Two a minute, five seconds into one: the third is free when the minute turns, 55 s on.
		m0 := t0.Truncate(time.Minute).Add(time.Minute + 5*time.Second)
		h := startActor(t, f, m0.Add(time.Hour), func(o *Options) { o.Clock, o.RequestsPerMinute = actor.NewFake(m0), 2 })
		for range 2 {
			if err := fetch(h, "Patient"); err != nil {
				t.Fatal(err)
			}
		}
		next := m0.Truncate(time.Minute).Add(time.Minute)
		err := fetch(h, "Patient")
		if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "free at "+clock(next)) ||
			!strings.Contains(err.Error(), "HEALOW_RATE_LIMIT") {
			t.Fatalf("err = %v; want a refusal saying the budget frees at %s", err, clock(next))
		}
		hl, _ := h.actor.Health(context.Background())
		if hl.State != StateRateLimited || hl.RateLimitedBy != LimitedByBudget || !hl.RateLimitedUntil.Equal(next) || hl.RateLeft != 0 {
			t.Fatalf("health = %s by %q until %v, %d left; want rate-limited by the budget until %v, none left",
				hl.State, hl.RateLimitedBy, hl.RateLimitedUntil, hl.RateLeft, next)
		}
	})

	t.Run("hold after a 429", func(t *testing.T) {
		h := startActor(t, f, t0.Add(time.Hour), func(o *Options) { o.Clock = actor.NewFake(t0) })
		before := hits.Load()
		if err := fetch(h, "Observation"); err == nil || !strings.Contains(err.Error(), "accepts requests again at") {
			t.Fatalf("err = %v", err)
		}
		hl, _ := h.actor.Health(context.Background())
		err := fetch(h, "Patient")
		if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "answered 429 and accepts requests again at "+clock(hl.RateLimitedUntil)) {
			t.Fatalf("err = %v; want a refusal saying the hold ends at %s", err, clock(hl.RateLimitedUntil))
		}
		if n := hits.Load() - before; n != 1 {
			t.Fatalf("the practice was asked %d times, want once (no retry into a 10-minute hold)", n)
		}
	})

	t.Run("hold met by a refresh", func(t *testing.T) {
		// The token expires 5 minutes in, inside a 10-minute hold: the renewal must wait for the
		// hold, so the caller is told when instead of being held for it.
		clk := actor.NewFake(t0)
		h := startActor(t, f, t0.Add(5*time.Minute), func(o *Options) { o.Clock = clk })
		if err := fetch(h, "Observation"); err == nil {
			t.Fatal("the 429 went unnoticed")
		}
		hl, _ := h.actor.Health(context.Background())
		clk.Set(t0.Add(6 * time.Minute))
		tokens := h.ecw.tokenCalls.Load()
		err := fetch(h, "Patient")
		if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "accepts requests again at "+clock(hl.RateLimitedUntil)) {
			t.Fatalf("err = %v; want a refusal saying the hold ends at %s", err, clock(hl.RateLimitedUntil))
		}
		if h.ecw.tokenCalls.Load() != tokens {
			t.Fatal("the token endpoint was asked during the hold")
		}
	})
}

func TestCircuitOpensAndClosesAgain(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	a := w.serve(t, id, func(o *Options) {
		o.MaxRetries, o.BreakerFailures, o.BreakerCooldown = -1, 3, 30*time.Second
	})
	ctx := context.Background()
	w.sb.SetFaults(p.Code, sandbox.Faults{Unavailable: true})
	for range 3 {
		if _, err := a.Fetch(ctx, patientRead(p)); err == nil {
			t.Fatal("a failing practice answered")
		}
	}
	before := w.sb.Stats().FHIRRequests
	_, err := a.Fetch(ctx, patientRead(p))
	if !errors.Is(err, ErrCircuitOpen) || !strings.Contains(err.Error(), "next try is at") {
		t.Fatalf("open circuit: %v", err)
	}
	if w.sb.Stats().FHIRRequests != before {
		t.Fatal("an open circuit let a request through")
	}
	h, _ := a.Health(ctx)
	if h.State != StateCircuitOpen || h.CircuitOpenUntil.IsZero() {
		t.Fatalf("health = %+v", h)
	}
	w.sb.SetFaults(p.Code, sandbox.Faults{})
	clk.Advance(29 * time.Second)
	if _, err := a.Fetch(ctx, patientRead(p)); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("a second before the cooldown ends: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := a.Fetch(ctx, patientRead(p)); err != nil { // the half-open probe closes the circuit
		t.Fatalf("the probe after the cooldown: %v", err)
	}
	if h, _ := a.Health(ctx); h.Breaker != "closed" || h.State != StateReady {
		t.Fatalf("after recovery: %+v", h)
	}
}

func TestHangingPracticeTimesOut(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	a := w.serve(t, id, func(o *Options) { o.RequestTimeout, o.MaxRetries = 50*time.Millisecond, -1 })
	w.sb.SetFaults(p.Code, sandbox.Faults{Hang: true})
	done := make(chan error, 1)
	go func() {
		_, err := a.Fetch(context.Background(), patientRead(p))
		done <- err
	}()
	// The refresh timer and the request's deadline are armed: the request is out.
	if err := clk.WaitTimers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(50 * time.Millisecond)
	if err := <-done; err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

// secretsThatFail wraps a keychain whose writes can be made to fail, as a locked keychain or
// one that refuses a long item (go-keyring's ErrSetDataTooBig) does.
type secretsThatFail struct {
	vault.Secrets
	failSet, failGet atomic.Bool
}

func (s *secretsThatFail) Set(id string, k vault.SecretKind, v string) error {
	if s.failSet.Load() {
		return vault.ErrSecretTooBig
	}
	return s.Secrets.Set(id, k, v)
}

func (s *secretsThatFail) Get(id string, k vault.SecretKind) (string, error) {
	if s.failGet.Load() {
		return "", vault.ErrKeychainUnavailable
	}
	return s.Secrets.Get(id, k)
}

// A keychain that refuses the rotated refresh token loses nothing: the actor keeps it in memory,
// uses it for the next refresh, and stores it once the keychain takes it again.
func TestKeychainRefusingATokenLosesNothing(t *testing.T) {
	t.Parallel()
	clk := newClock()
	w := newWorld(t, sandbox.Options{}, clk)
	id, p := w.connect(t, 0)
	flaky := &secretsThatFail{Secrets: w.secrets}
	a := w.serve(t, id, func(o *Options) { o.Secrets = flaky })
	ctx := context.Background()
	flaky.failSet.Store(true)
	for i := range 3 { // three refreshes with the keychain refusing every write
		clk.Advance(2 * time.Hour)
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			t.Fatalf("fetch %d: %v", i, err)
		}
	}
	h, _ := a.Health(ctx)
	if !strings.Contains(h.LastError, "kept in memory") || h.State == StateNeedsReconnect {
		t.Fatalf("health = %+v", h)
	}
	stale, _ := w.secrets.Get(id, vault.RefreshToken)
	flaky.failSet.Store(false)
	clk.Advance(2 * time.Hour)
	if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
		t.Fatal(err)
	}
	if stored, _ := w.secrets.Get(id, vault.RefreshToken); stored == stale {
		t.Fatal("the refresh token in memory never reached the keychain")
	}
	if w.sb.Stats().RefreshReuse != 0 {
		t.Fatal("a spent refresh token was presented again")
	}
}

func TestKeychainUnavailableAtStartIsAClearError(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	id, p := w.connect(t, 0)
	flaky := &secretsThatFail{Secrets: w.secrets}
	flaky.failGet.Store(true)
	a := w.serve(t, id, func(o *Options) { o.Secrets = flaky })
	_, err := a.Fetch(context.Background(), patientRead(p))
	if !errors.Is(err, vault.ErrKeychainUnavailable) {
		t.Fatalf("err = %v", err)
	}
	h, err := a.Health(context.Background())
	if err != nil || h.State != StateDegraded || h.Restarts != 0 {
		t.Fatalf("health = %+v, %v", h, err)
	}
	if _, err := w.secrets.Get(id, vault.RefreshToken); err != nil {
		t.Fatalf("the stored refresh token was lost: %v", err)
	}
}

// Two processes sharing the store and the keychain, many calls across many short token
// lifetimes, single-use refresh tokens: never the same token spent twice, never a reconnect.
func TestTwoProcessesNeverSpendTheSameRefreshToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	one := newWorld(t, sandbox.Options{AccessTokenTTL: 10 * time.Second}, clk)
	two := one.share(t)
	id, p := one.connect(t, 0)
	actors := []*Actor{one.serve(t, id, nil), two.serve(t, id, nil)}
	ctx := context.Background()
	var wg sync.WaitGroup
	var failures atomic.Int32
	for round := range 8 {
		clk.Advance(11 * time.Second) // every access token has expired
		for i := range 16 {
			wg.Go(func() {
				if _, err := actors[(round+i)%2].Fetch(ctx, patientRead(p)); err != nil {
					failures.Add(1)
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
	}
	st := one.sb.Stats()
	if st.RefreshReuse != 0 || failures.Load() != 0 {
		t.Fatalf("refresh tokens reused %d times, %d failed calls", st.RefreshReuse, failures.Load())
	}
	for _, a := range actors {
		if h, _ := a.Health(ctx); h.State == StateNeedsReconnect {
			t.Fatalf("a process lost the practice: %+v", h)
		}
	}
	if st.RefreshGrants < 8 {
		t.Fatalf("only %d refreshes for 8 expiries", st.RefreshGrants)
	}
}

// Connection resets, hangs and 500s at one practice leave another practice's calls untouched.
// The sick practice's actor runs on a clock nobody moves, so its calls stay caught in their
// retries' backoff or their request's deadline for as long as the healthy practice is read;
// then their callers give up.
func TestFaultsStayWithTheirPractice(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]sandbox.Faults{
		"resets": {ResetConnections: true},
		"hangs":  {Hang: true},
		"500s":   {FailNext: 1 << 20},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, sandbox.Options{})
			sickID, sickP := w.connect(t, 0)
			wellID, wellP := w.connect(t, 1)
			sick := w.serve(t, sickID, func(o *Options) { o.Clock = newClock() })
			well := w.serve(t, wellID, nil)
			w.sb.SetFaults(sickP.Code, f)
			sickCtx, giveUp := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if _, err := sick.Fetch(sickCtx, patientRead(sickP)); err == nil {
						t.Error("the sick practice answered")
					}
				})
			}
			for range 20 {
				if _, err := well.Fetch(context.Background(), patientRead(wellP)); err != nil {
					t.Fatalf("the healthy practice failed: %v", err)
				}
			}
			giveUp()
			wg.Wait()
		})
	}
}

package smart

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// serveStates runs a sign-ins actor on clock until the test ends.
func serveStates(t *testing.T, clock *actor.Fake) *States {
	t.Helper()
	s := NewStates(clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func TestStatesSingleUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := serveStates(t, clock)
	cfg := &Config{TokenEndpoint: "https://oauthserver.eclinicalworks.com/oauth/oauth2/token"}
	in := Pending{PracticeName: "Acme", FHIRBase: "https://fhir4.healow.com/fhir/r4/FEIGCD", Verifier: "v", Config: cfg, Scopes: []string{"openid"}}
	state, err := s.Add(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(state) {
		t.Errorf("state %q is not 32 bytes of base64url", state)
	}
	got, err := s.Take(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	if got.PracticeName != "Acme" || got.Verifier != "v" || got.Config != cfg || !got.Created.Equal(clock.Now()) {
		t.Errorf("Take = %+v", got)
	}
	if _, err := s.Take(ctx, state); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("second Take: err = %v, want ErrStateUnknown", err)
	}
	if _, err := s.Take(ctx, "never-issued"); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("unknown state: err = %v, want ErrStateUnknown", err)
	}
}

func TestStatesExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		after time.Duration
		want  error
	}{
		{0, nil},
		{StateTTL - time.Second, nil},
		{StateTTL, ErrStateExpired},
		{StateTTL + time.Hour, ErrStateExpired},
	}
	for _, tt := range tests {
		clock := newFakeClock()
		s := serveStates(t, clock)
		state, err := s.Add(ctx, Pending{PracticeName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(tt.after)
		if _, err := s.Take(ctx, state); !errors.Is(err, tt.want) {
			t.Errorf("after %v: err = %v, want %v", tt.after, err, tt.want)
		}
	}
}

func TestStatesSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := serveStates(t, clock)
	for range 5 {
		if _, err := s.Add(ctx, Pending{PracticeName: "Acme"}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(StateTTL)
	if _, err := s.Add(ctx, Pending{PracticeName: "Beta"}); err != nil {
		t.Fatal(err)
	}
	// The five expired ones were swept: the bound counts only the one in flight.
	for range maxPending - 1 {
		if _, err := s.Add(ctx, Pending{PracticeName: "Gamma"}); err != nil {
			t.Fatalf("the expired sign-ins still count against the bound: %v", err)
		}
	}
	if _, err := s.Add(ctx, Pending{}); err == nil {
		t.Error("Add accepted more than maxPending authorizations")
	}
}

func TestStatesBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := serveStates(t, clock)
	for range maxPending {
		if _, err := s.Add(ctx, Pending{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(ctx, Pending{}); err == nil {
		t.Error("Add accepted more than maxPending authorizations")
	}
	clock.Advance(StateTTL)
	if _, err := s.Add(ctx, Pending{}); err != nil {
		t.Errorf("Add after expiry: %v", err)
	}
}

func TestStatesTakeFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := serveStates(t, newFakeClock())
	state, err := s.Add(ctx, Pending{PracticeName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeFor(ctx, state, "Beta"); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("other practice: err = %v, want ErrStateMismatch", err)
	}
	if _, err := s.TakeFor(ctx, state, "Acme"); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("a mismatched state must be consumed: err = %v", err)
	}
	state, _ = s.Add(ctx, Pending{PracticeName: "Acme"})
	if p, err := s.TakeFor(ctx, state, "Acme"); err != nil || p.PracticeName != "Acme" {
		t.Errorf("TakeFor = %+v, %v", p, err)
	}
}

func TestStatesConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := serveStates(t, newFakeClock())
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 32 {
		wg.Go(func() {
			state, err := s.Add(ctx, Pending{PracticeName: "Acme"})
			if err != nil {
				errs <- err
				return
			}
			if _, err := s.Take(ctx, state); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A sign-in service that has stopped answers at once, saying so; one not yet started is waited
// for, as a busy one is.
func TestStatesThatStoppedAnswerAtOnce(t *testing.T) {
	t.Parallel()
	s := NewStates(newFakeClock())
	waiting, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Add(waiting, Pending{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("before it started: %v", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	if _, err := s.Add(context.Background(), Pending{}); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	if _, err := s.Take(context.Background(), "x"); !errors.Is(err, actor.ErrDown) || !strings.Contains(err.Error(), "start the connection again") {
		t.Fatalf("after it stopped: %v", err)
	}
}

// Outcomes kept for late waiters never hold up a new sign-in.
func TestStatesEndedDoNotCountAgainstTheBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := serveStates(t, newFakeClock())
	for range maxPending {
		state, err := s.Add(ctx, Pending{PracticeName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Take(ctx, state); err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, state, Outcome{PracticeID: "pr_1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(ctx, Pending{PracticeName: "Beta"}); err != nil {
		t.Fatalf("finished sign-ins hold up a new one: %v", err)
	}
}

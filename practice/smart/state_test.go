package smart

import (
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"
)

func TestStatesSingleUse(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStates(clock.Now)
	cfg := &Config{TokenEndpoint: "https://oauthserver.eclinicalworks.com/oauth/oauth2/token"}
	in := Pending{PracticeName: "Acme", FHIRBase: "https://fhir4.healow.com/fhir/r4/FEIGCD", Verifier: "v", Config: cfg, Scopes: []string{"openid"}}
	state, err := s.Add(in)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(state) {
		t.Errorf("state %q is not 32 bytes of base64url", state)
	}
	got, err := s.Take(state)
	if err != nil {
		t.Fatal(err)
	}
	if got.PracticeName != "Acme" || got.Verifier != "v" || got.Config != cfg || !got.Created.Equal(clock.Now()) {
		t.Errorf("Take = %+v", got)
	}
	if _, err := s.Take(state); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("second Take: err = %v, want ErrStateUnknown", err)
	}
	if _, err := s.Take("never-issued"); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("unknown state: err = %v, want ErrStateUnknown", err)
	}
}

func TestStatesExpiry(t *testing.T) {
	t.Parallel()
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
		s := NewStates(clock.Now)
		state, err := s.Add(Pending{PracticeName: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(tt.after)
		if _, err := s.Take(state); !errors.Is(err, tt.want) {
			t.Errorf("after %v: err = %v, want %v", tt.after, err, tt.want)
		}
	}
}

func TestStatesSweep(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStates(clock.Now)
	for range 5 {
		if _, err := s.Add(Pending{PracticeName: "Acme"}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(StateTTL)
	if _, err := s.Add(Pending{PracticeName: "Beta"}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n := len(s.pending)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("%d entries after sweep, want 1", n)
	}
}

func TestStatesBound(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := NewStates(clock.Now)
	for range maxPending {
		if _, err := s.Add(Pending{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Add(Pending{}); err == nil {
		t.Error("Add accepted more than maxPending authorizations")
	}
	clock.Advance(StateTTL)
	if _, err := s.Add(Pending{}); err != nil {
		t.Errorf("Add after expiry: %v", err)
	}
}

func TestStatesTakeFor(t *testing.T) {
	t.Parallel()
	s := NewStates(nil)
	state, err := s.Add(Pending{PracticeName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeFor(state, "Beta"); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("other practice: err = %v, want ErrStateMismatch", err)
	}
	if _, err := s.TakeFor(state, "Acme"); !errors.Is(err, ErrStateUnknown) {
		t.Errorf("a mismatched state must be consumed: err = %v", err)
	}
	state, _ = s.Add(Pending{PracticeName: "Acme"})
	if p, err := s.TakeFor(state, "Acme"); err != nil || p.PracticeName != "Acme" {
		t.Errorf("TakeFor = %+v, %v", p, err)
	}
}

func TestStatesConcurrent(t *testing.T) {
	t.Parallel()
	s := NewStates(newFakeClock().Now)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 32 {
		wg.Go(func() {
			state, err := s.Add(Pending{PracticeName: "Acme"})
			if err != nil {
				errs <- err
				return
			}
			if _, err := s.Take(state); err != nil {
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

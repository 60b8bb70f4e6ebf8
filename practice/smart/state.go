package smart

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// StateTTL is how long an authorization may stay in flight: long enough to
// log in to healow and approve, short enough that a leaked state is useless.
const StateTTL = 10 * time.Minute

// maxPending bounds the number of authorizations in flight so a caller that
// keeps starting connections cannot grow memory without limit.
const maxPending = 256

// Errors returned by States.Take and States.TakeFor.
var (
	ErrStateUnknown  = errors.New("this authorization was not started by this healow-mcp process, or it was already used: start the connection again")
	ErrStateExpired  = errors.New("this authorization took longer than 10 minutes and has expired: start the connection again and approve within 10 minutes")
	ErrStateMismatch = errors.New("this authorization was started for a different practice: finish it for that practice, or start the connection again")
)

// Pending is an authorization in flight, kept in memory by the process that
// began it.
type Pending struct {
	PracticeName string
	FHIRBase     string
	Verifier     string // the PKCE verifier; never logged
	Config       *Config
	Scopes       []string
	Created      time.Time // set by Add when zero
}

// States holds pending authorizations keyed by an unguessable state value.
// Each state is single use, expires after StateTTL, and remembers the
// practice it was made for. It is safe for concurrent use.
type States struct {
	now     func() time.Time
	mu      sync.Mutex
	pending map[string]pendingEntry
}

type pendingEntry struct {
	p       Pending
	expires time.Time
}

// NewStates returns an empty store reading time from now (nil means
// time.Now), so tests can move the clock.
func NewStates(now func() time.Time) *States {
	if now == nil {
		now = time.Now
	}
	return &States{now: now, pending: make(map[string]pendingEntry)}
}

// Add stores p under a new random state (32 bytes, base64url) and returns it.
func (s *States) Add(p Pending) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an authorization state: the system random source failed: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(b)

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if len(s.pending) >= maxPending {
		return "", fmt.Errorf("%d authorizations are already in progress: finish one, or wait %v for them to expire", len(s.pending), StateTTL)
	}
	if p.Created.IsZero() {
		p.Created = now
	}
	s.pending[state] = pendingEntry{p: p, expires: now.Add(StateTTL)}
	return state, nil
}

// Take removes and returns the authorization stored under state. It fails
// with ErrStateUnknown when the state was never issued or was already
// taken, and with ErrStateExpired when it is older than StateTTL.
func (s *States) Take(state string) (Pending, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e, ok := s.pending[state]
	delete(s.pending, state)
	// Sweep after the lookup, so a late user hears "expired", not "unknown".
	s.sweep(now)
	switch {
	case !ok:
		return Pending{}, ErrStateUnknown
	case !now.Before(e.expires):
		return Pending{}, ErrStateExpired
	}
	return e.p, nil
}

// TakeFor is Take for a caller that knows which practice it is finishing:
// a state made for another practice fails with ErrStateMismatch, and is
// consumed all the same, because a state is never good twice.
func (s *States) TakeFor(state, practiceName string) (Pending, error) {
	p, err := s.Take(state)
	if err != nil {
		return Pending{}, err
	}
	if p.PracticeName != practiceName {
		return Pending{}, ErrStateMismatch
	}
	return p, nil
}

func (s *States) sweep(now time.Time) {
	for k, e := range s.pending {
		if !now.Before(e.expires) {
			delete(s.pending, k)
		}
	}
}

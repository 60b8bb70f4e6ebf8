package smart

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
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

// States holds the sign-ins in flight, keyed by an unguessable state value. Each state is
// single use, expires after StateTTL, and remembers the practice it was made for.
//
// States is an actor: Serve runs it (under the tree in healow serve, in a goroutine of its own
// in healow connect), and Add and Take are messages to it; until Serve runs they wait, and once
// it has stopped they fail at once.
type States struct {
	clock actor.Clock
	box   *actor.Mailbox[stateMsg]
}

// NewStates returns an actor with no sign-in in flight, reading time from clock (nil means the
// wall clock).
func NewStates(clock actor.Clock) *States {
	return &States{clock: actor.OrReal(clock), box: actor.NewMailbox[stateMsg]()}
}

// String names the actor in supervisor events.
func (s *States) String() string { return "sign-ins" }

type stateMsg interface{ isStateMsg() }

type addMsg struct {
	p     Pending
	state string
	reply *actor.Reply[error]
}

type takeMsg struct {
	state string
	reply *actor.Reply[takeReply]
}

type takeReply struct {
	p   Pending
	err error
}

func (addMsg) isStateMsg()  {}
func (takeMsg) isStateMsg() {}

type pendingEntry struct {
	p       Pending
	expires time.Time
}

// Serve runs the actor until ctx ends. Sign-ins in flight live in this loop only: a restart
// forgets them, as a process that stops does.
func (s *States) Serve(ctx context.Context) error {
	s.box.Up()
	defer func() { s.box.Down(errors.New("the sign-in service is restarting; start the connection again")) }()
	pending := map[string]pendingEntry{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-s.box.Receive():
			switch m := m.(type) {
			case addMsg:
				m.reply.Send(add(pending, m.state, m.p, s.clock.Now()))
			case takeMsg:
				p, err := take(pending, m.state, s.clock.Now())
				m.reply.Send(takeReply{p, err})
			}
		}
	}
}

// Add stores p under a new random state (32 bytes, base64url) and returns it.
func (s *States) Add(ctx context.Context, p Pending) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating an authorization state: the system random source failed: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	reply := actor.NewReply[error]()
	err, askErr := actor.Ask(ctx, s.box, stateMsg(addMsg{p: p, state: state, reply: reply}), reply)
	if err = cmp.Or(askErr, err); err != nil {
		return "", err
	}
	return state, nil
}

// Take removes and returns the authorization stored under state. It fails with ErrStateUnknown
// when the state was never issued or was already taken, and with ErrStateExpired when it is
// older than StateTTL.
func (s *States) Take(ctx context.Context, state string) (Pending, error) {
	reply := actor.NewReply[takeReply]()
	r, err := actor.Ask(ctx, s.box, stateMsg(takeMsg{state: state, reply: reply}), reply)
	if err != nil {
		return Pending{}, err
	}
	return r.p, r.err
}

// TakeFor is Take for a caller that knows which practice it is finishing: a state made for
// another practice fails with ErrStateMismatch, and is consumed all the same, because a state is
// never good twice.
func (s *States) TakeFor(ctx context.Context, state, practiceName string) (Pending, error) {
	p, err := s.Take(ctx, state)
	if err != nil {
		return Pending{}, err
	}
	if p.PracticeName != practiceName {
		return Pending{}, ErrStateMismatch
	}
	return p, nil
}

func add(pending map[string]pendingEntry, state string, p Pending, now time.Time) error {
	sweep(pending, now)
	if len(pending) >= maxPending {
		return fmt.Errorf("%d authorizations are already in progress: finish one, or wait %v for them to expire", len(pending), StateTTL)
	}
	if p.Created.IsZero() {
		p.Created = now
	}
	pending[state] = pendingEntry{p: p, expires: now.Add(StateTTL)}
	return nil
}

func take(pending map[string]pendingEntry, state string, now time.Time) (Pending, error) {
	e, ok := pending[state]
	delete(pending, state)
	// Sweep after the lookup, so a late user hears "expired", not "unknown".
	sweep(pending, now)
	switch {
	case !ok:
		return Pending{}, ErrStateUnknown
	case !now.Before(e.expires):
		return Pending{}, ErrStateExpired
	}
	return e.p, nil
}

func sweep(pending map[string]pendingEntry, now time.Time) {
	for k, e := range pending {
		if !now.Before(e.expires) {
			delete(pending, k)
		}
	}
}

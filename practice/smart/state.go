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

// Errors returned by States.Take, TakeFor and Wait.
var (
	ErrStateUnknown  = errors.New("this authorization was not started by this healow-mcp process, or it was already used: start the connection again")
	ErrStateExpired  = errors.New("this authorization took longer than 10 minutes and has expired: start the connection again and approve within 10 minutes")
	ErrStateMismatch = errors.New("this authorization was started for a different practice: finish it for that practice, or start the connection again")
	ErrStateReplaced = errors.New("a later sign-in took this one's place on the redirect's port, so this one was dropped: finish the later one, or start the connection again")
	ErrStateCanceled = errors.New("the sign-in was declined, so nothing was connected: start the connection again when you want to")
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
// single use, expires after StateTTL, and remembers the practice it was made for. A sign-in
// begun with AddListening also owns a listener for its redirect on this machine, which closes
// when the sign-in is taken, expires, is replaced or is canceled; and whoever finishes a sign-in
// tells how it ended (Finish), so that others can wait for it (Wait).
//
// States is an actor: Serve runs it (under the tree in healow serve, in a goroutine of its own
// in healow connect), and its methods are messages to it; until Serve runs they wait, and once
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
	p      Pending
	state  string
	at     *Loopback // listen there for the redirect; nil: the user pastes it
	finish Finish
	reply  *actor.Reply[addReply]
}

type addReply struct {
	replaced string // the practice whose sign-in waited on the same port, if any
	err      error
}

type takeMsg struct {
	state string
	reply *actor.Reply[takeReply]
}

type takeReply struct {
	p   Pending
	err error
}

type finishMsg struct {
	state string
	o     Outcome
}

type waitMsg struct {
	ctx   context.Context // the waiter's: one that left is not kept
	state string
	now   bool // answer at once, ended or not
	reply *actor.Reply[waitReply]
}

type waitReply struct {
	w     Waited
	known bool
}

type cancelMsg struct {
	state string
	reply *actor.Reply[struct{}]
}

func (addMsg) isStateMsg()    {}
func (takeMsg) isStateMsg()   {}
func (finishMsg) isStateMsg() {}
func (waitMsg) isStateMsg()   {}
func (cancelMsg) isStateMsg() {}

// Waited is what Wait and Peek tell of a sign-in.
type Waited struct {
	Practice string   // the name it was begun for
	Ended    *Outcome // nil while it is still in flight (Peek)
}

// Add stores p under a new random state (32 bytes, base64url) and returns it.
func (s *States) Add(ctx context.Context, p Pending) (string, error) {
	state, _, err := s.add(ctx, p, nil, nil)
	return state, err
}

// AddListening is Add for a sign-in whose redirect comes back to this machine: before it
// returns, the actor listens at at for the life of the sign-in, and a redirect there that
// carries the state is handed to finish. A sign-in already listening at the same address is
// replaced, and replaced names its practice.
func (s *States) AddListening(ctx context.Context, p Pending, at Loopback, finish Finish) (state, replaced string, err error) {
	return s.add(ctx, p, &at, finish)
}

func (s *States) add(ctx context.Context, p Pending, at *Loopback, finish Finish) (string, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generating an authorization state: the system random source failed: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	reply := actor.NewReply[addReply]()
	r, err := actor.Ask(ctx, s.box, stateMsg(addMsg{p: p, state: state, at: at, finish: finish, reply: reply}), reply)
	if err = cmp.Or(err, r.err); err != nil {
		return "", "", err
	}
	return state, r.replaced, nil
}

// Take hands out the authorization stored under state, once: its listener, if any, closes. It
// fails with ErrStateUnknown when the state was never issued or was already taken, with
// ErrStateExpired when it is older than StateTTL, and with ErrStateReplaced or ErrStateCanceled
// when it was dropped. Whoever takes a sign-in tells how it ended with Finish.
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

// Finish tells how a taken sign-in ended, for those who Wait on it.
func (s *States) Finish(ctx context.Context, state string, o Outcome) error {
	return s.box.Send(ctx, stateMsg(finishMsg{state: state, o: o}))
}

// Cancel drops a sign-in that is still waiting for its redirect: the user declined it.
func (s *States) Cancel(ctx context.Context, state string) error {
	reply := actor.NewReply[struct{}]()
	_, err := actor.Ask(ctx, s.box, stateMsg(cancelMsg{state: state, reply: reply}), reply)
	return err
}

// Wait returns once the sign-in of state has ended, however it ended, or when ctx ends (with
// ctx's error). A state it does not know is ErrStateUnknown.
func (s *States) Wait(ctx context.Context, state string) (Waited, error) {
	return s.wait(ctx, state, false)
}

// Peek tells at once what Wait would, Ended being nil while the sign-in is in flight.
func (s *States) Peek(ctx context.Context, state string) (Waited, error) {
	return s.wait(ctx, state, true)
}

func (s *States) wait(ctx context.Context, state string, now bool) (Waited, error) {
	reply := actor.NewReply[waitReply]()
	r, err := actor.Ask(ctx, s.box, stateMsg(waitMsg{ctx: ctx, state: state, now: now, reply: reply}), reply)
	if err != nil {
		return Waited{}, err
	}
	if !r.known {
		return Waited{}, ErrStateUnknown
	}
	return r.w, nil
}

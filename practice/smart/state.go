package smart

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
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

// signIn is one sign-in in the actor's map.
type signIn struct {
	p       Pending
	expires time.Time // when it lapses unused; once ended, when its outcome is forgotten
	taken   bool      // Take handed it out: its code is being, or was, traded
	ended   *Outcome  // how it ended
	catch   *catcher  // its listener, nil without
	waiters []waitMsg
}

// Serve runs the actor until ctx ends. Sign-ins in flight live in this loop only: a restart
// forgets them, as a process that stops does, and closes their listeners.
func (s *States) Serve(ctx context.Context) error {
	s.box.Up()
	defer func() { s.box.Down(errors.New("the sign-in service is restarting; start the connection again")) }()
	l := &loop{clock: s.clock, pending: map[string]*signIn{}}
	defer l.stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-s.box.Receive():
			l.handle(m)
		case <-l.timerC():
			l.lapse()
		}
		l.arm()
	}
}

// loop is the actor's state, touched by Serve's goroutine only.
type loop struct {
	clock   actor.Clock
	pending map[string]*signIn
	timer   actor.Timer // fires when the first sign-in still waiting lapses
	timerAt time.Time
}

func (l *loop) handle(m stateMsg) {
	now := l.clock.Now()
	switch m := m.(type) {
	case addMsg:
		replaced, err := l.add(m, now)
		m.reply.Send(addReply{replaced, err})
	case takeMsg:
		p, err := l.take(m.state, now)
		m.reply.Send(takeReply{p, err})
	case finishMsg:
		if e := l.pending[m.state]; e != nil && e.ended == nil {
			o := m.o
			e.expires = now.Add(StateTTL) // a waiter that asks a little late still hears how it went
			l.end(e, &o)
		}
	case waitMsg:
		l.wait(m, now)
	case cancelMsg:
		if e := l.pending[m.state]; e != nil && !e.taken && e.ended == nil {
			l.end(e, &Outcome{Practice: e.p.PracticeName, Err: ErrStateCanceled})
		}
		m.reply.Send(struct{}{})
	}
}

func (l *loop) add(m addMsg, now time.Time) (replaced string, err error) {
	l.sweep(now)
	if len(l.pending) >= maxPending {
		// Outcomes kept for late waiters go first: they must not hold up a new sign-in.
		for k, e := range l.pending {
			if e.ended != nil {
				delete(l.pending, k)
			}
		}
	}
	if len(l.pending) >= maxPending {
		return "", fmt.Errorf("%d authorizations are already in progress: finish one, or wait %v for them to expire", len(l.pending), StateTTL)
	}
	p := m.p
	if p.Created.IsZero() {
		p.Created = now
	}
	e := &signIn{p: p, expires: now.Add(StateTTL)}
	if m.at != nil {
		// One port, one sign-in: the newest takes the port from one still waiting there, whose
		// link then leads nowhere. The old listener must close before the new one can bind, and
		// both happen here, in one step, so that no other sign-in takes the port in between.
		// Binding a port on this machine is a system call that returns at once, not network I/O.
		for _, old := range l.pending {
			if old.catch == nil || old.catch.at.Addr != m.at.Addr {
				continue
			}
			old.catch.stop()
			if !old.taken && old.ended == nil {
				replaced = old.p.PracticeName
				l.end(old, &Outcome{Practice: old.p.PracticeName, Err: ErrStateReplaced})
			}
		}
		if e.catch, err = listen(*m.at, m.state, m.finish); err != nil {
			return "", err
		}
	}
	l.pending[m.state] = e
	return replaced, nil
}

func (l *loop) take(state string, now time.Time) (Pending, error) {
	e, ok := l.pending[state]
	// Sweep after the lookup, so a late user hears "expired", not "unknown".
	defer l.sweep(now)
	switch {
	case !ok:
		return Pending{}, ErrStateUnknown
	case e.ended != nil && !e.taken:
		return Pending{}, e.ended.Err // replaced, canceled or expired
	case e.taken:
		return Pending{}, ErrStateUnknown
	case !now.Before(e.expires):
		return Pending{}, ErrStateExpired
	}
	e.taken = true
	if e.catch != nil {
		e.catch.stop() // its one answer has come, by the listener or by a paste
	}
	return e.p, nil
}

func (l *loop) wait(m waitMsg, now time.Time) {
	e, ok := l.pending[m.state]
	switch {
	case !ok:
		m.reply.Send(waitReply{})
		return
	case e.ended != nil || m.now:
		m.reply.Send(waitReply{Waited{Practice: e.p.PracticeName, Ended: e.ended}, true})
		return
	case !e.taken && !now.Before(e.expires):
		m.reply.Send(waitReply{Waited{Practice: e.p.PracticeName, Ended: &Outcome{Practice: e.p.PracticeName, Err: ErrStateExpired}}, true})
		return
	}
	kept := e.waiters[:0]
	for _, w := range e.waiters {
		if w.ctx.Err() == nil {
			kept = append(kept, w)
		}
	}
	e.waiters = append(kept, m)
}

// end records how e ended, closes its listener and answers its waiters.
func (l *loop) end(e *signIn, o *Outcome) {
	e.ended = o
	if e.catch != nil {
		e.catch.stop()
	}
	for _, w := range e.waiters {
		w.reply.Send(waitReply{Waited{Practice: e.p.PracticeName, Ended: o}, true})
	}
	e.waiters = nil
}

// lapse ends the sign-ins that expired unused: their listeners close and their waiters hear so.
// They stay in the map, as expired, until the next sweep.
func (l *loop) lapse() {
	l.timer, l.timerAt = nil, time.Time{}
	now := l.clock.Now()
	for _, e := range l.pending {
		if !e.taken && e.ended == nil && !now.Before(e.expires) {
			l.end(e, &Outcome{Practice: e.p.PracticeName, Err: ErrStateExpired})
		}
	}
}

// arm sets the timer for the first sign-in that waits (with a listener or a waiter) and has not
// ended; the others lapse lazily, at the next sweep.
func (l *loop) arm() {
	var first time.Time
	for _, e := range l.pending {
		if e.taken || e.ended != nil || (e.catch == nil && len(e.waiters) == 0) {
			continue
		}
		if first.IsZero() || e.expires.Before(first) {
			first = e.expires
		}
	}
	if first.Equal(l.timerAt) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer, l.timerAt = nil, first
	if !first.IsZero() {
		l.timer = l.clock.NewTimer(first.Sub(l.clock.Now()))
	}
}

func (l *loop) timerC() <-chan time.Time {
	if l.timer == nil {
		return nil
	}
	return l.timer.C()
}

// stop closes every listener when the actor stops, once the pages being written have gone out;
// waiters are told by the mailbox going down.
func (l *loop) stop() {
	if l.timer != nil {
		l.timer.Stop()
	}
	var wg sync.WaitGroup
	for _, e := range l.pending {
		if e.catch != nil {
			wg.Go(e.catch.shutdown)
		}
	}
	wg.Wait()
}

// sweep forgets what lapsed: sign-ins unused past their time and outcomes kept long enough. One
// whose code is being traded is kept a while longer, for the Finish that will end it.
func (l *loop) sweep(now time.Time) {
	for k, e := range l.pending {
		until := e.expires
		if e.taken && e.ended == nil {
			until = until.Add(StateTTL)
		}
		if !now.Before(until) {
			if e.catch != nil {
				e.catch.stop()
			}
			delete(l.pending, k)
		}
	}
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

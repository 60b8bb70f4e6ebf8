package smart

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

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

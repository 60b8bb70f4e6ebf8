package actor

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when a test moves it. Timers and tickers fire, in time order,
// as Advance passes their time; WaitTimers lets a test wait until the code under test has armed
// the timers it is about to need, so no test sleeps to let something happen.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	armed   chan struct{} // closed and replaced whenever a timer is armed
	advance sync.Mutex    // one Advance at a time
}

// NewFake returns a fake clock reading start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, armed: make(chan struct{})}
}

// Now reads the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer arms a timer that fires once the fake time reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: f, c: make(chan time.Time, 1)}
	f.arm(t, d)
	return t
}

// NewTicker arms a ticker that fires every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("actor: non-positive interval for NewTicker")
	}
	t := &fakeTimer{clock: f, c: make(chan time.Time, 1), period: d}
	f.arm(t, d)
	return fakeTicker{t}
}

// WithTimeout returns a context that ends with context.DeadlineExceeded once the fake time
// passes now+d, or when ctx ends. Its Deadline is ctx's: the network code below reads deadlines
// on the wall clock, where the fake one means nothing.
func (f *Fake) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c := &fakeDeadline{Context: ctx, done: make(chan struct{})}
	t := f.NewTimer(d)
	stop := context.AfterFunc(ctx, func() { c.end(ctx.Err()) })
	go func() {
		select {
		case <-t.C():
			c.end(context.DeadlineExceeded)
		case <-c.done:
			t.Stop()
		}
	}()
	return c, func() {
		t.Stop()
		stop()
		c.end(context.Canceled)
	}
}

// Advance moves the fake time forward by d at once, then fires every timer and ticker that came
// due, in time order, each with the time it was due. Code that reacts to them sees the new time:
// a timer it arms now is due after it, so a jump of two hours does not also expire the deadlines
// of the work a timer set off, as it would if time crept. A ticker fires once however many of
// its periods passed (like time.Ticker, a slow reader misses ticks) and goes on from there.
func (f *Fake) Advance(d time.Duration) {
	f.advance.Lock()
	defer f.advance.Unlock()
	f.mu.Lock()
	end := f.now.Add(d)
	f.now = end
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].when.Before(f.timers[j].when) })
	var due []firing
	kept := f.timers[:0]
	for _, t := range f.timers {
		if t.when.After(end) {
			kept = append(kept, t)
			continue
		}
		due = append(due, firing{t, t.when})
		if t.period > 0 {
			for !t.when.After(end) {
				t.when = t.when.Add(t.period)
			}
			kept = append(kept, t)
		}
	}
	f.timers = kept
	f.mu.Unlock()
	for _, x := range due {
		select {
		case x.t.c <- x.at:
		default: // a slow reader misses it, as with time.Ticker
		}
	}
}

type firing struct {
	t  *fakeTimer
	at time.Time
}

// Set moves the fake time to t (forward only), firing what comes due.
func (f *Fake) Set(t time.Time) {
	if d := t.Sub(f.Now()); d > 0 {
		f.Advance(d)
	}
}

// Timers says how many timers and tickers are armed.
func (f *Fake) Timers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// WaitTimers waits until at least n timers and tickers are armed, or ctx ends.
func (f *Fake) WaitTimers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		got, armed := len(f.timers), f.armed
		f.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-armed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	f.mu.Lock()
	t.when = f.now.Add(d)
	t.clock = f
	if d <= 0 && t.period == 0 {
		now := f.now
		f.mu.Unlock()
		t.c <- now // due already
		return
	}
	f.timers = append(f.timers, t)
	close(f.armed)
	f.armed = make(chan struct{})
	f.mu.Unlock()
}

func (f *Fake) remove(t *fakeTimer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.timers {
		if x == t {
			f.timers = append(f.timers[:i], f.timers[i+1:]...)
			return true
		}
	}
	return false
}

type fakeTimer struct {
	clock  *Fake
	c      chan time.Time
	when   time.Time
	period time.Duration
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { return t.clock.remove(t) }

type fakeTicker struct{ t *fakeTimer }

func (t fakeTicker) C() <-chan time.Time { return t.t.c }
func (t fakeTicker) Stop()               { t.t.clock.remove(t.t) }

// fakeDeadline is a context ended by the fake clock.
type fakeDeadline struct {
	context.Context
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func (c *fakeDeadline) end(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	})
}

func (c *fakeDeadline) Done() <-chan struct{} { return c.done }
func (c *fakeDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

package actor

import (
	"context"
	"time"
)

// Clock is the one source of time of the code that takes it: now, timers, tickers, sleeps and
// deadlines. Real is the wall clock; tests use a Fake.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once, d from now.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a ticker that fires every d.
	NewTicker(d time.Duration) Ticker
	// WithTimeout is context.WithTimeout on this clock's time.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// Timer is a time.Timer whose channel is a method, so that a Fake can provide it.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// Ticker is a time.Ticker whose channel is a method.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time                   { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer   { return realTimer{time.NewTimer(d)} }
func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }
func (realClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

type realTicker struct{ t *time.Ticker }

func (t realTicker) C() <-chan time.Time { return t.t.C }
func (t realTicker) Stop()               { t.t.Stop() }

// OrReal returns c, or Real when c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real
	}
	return c
}

// Sleep waits d on c, unless ctx ends first.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NowFunc is the wall clock with now as its reading: timers, tickers and deadlines run on wall
// time, only Now differs. It suits a test that sets the time ahead or behind (a skewed clock)
// without moving it by hand.
func NowFunc(now func() time.Time) Clock {
	if now == nil {
		return Real
	}
	return nowFunc{now}
}

type nowFunc struct{ now func() time.Time }

func (c nowFunc) Now() time.Time                   { return c.now() }
func (c nowFunc) NewTimer(d time.Duration) Timer   { return Real.NewTimer(d) }
func (c nowFunc) NewTicker(d time.Duration) Ticker { return Real.NewTicker(d) }
func (c nowFunc) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return Real.WithTimeout(ctx, d)
}

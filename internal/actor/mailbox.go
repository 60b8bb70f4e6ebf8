package actor

import (
	"context"
	"errors"
	"sync"
)

// ErrDown: the actor does not take messages now. Errors from Ask and Send that mean this wrap it
// together with the reason the actor gave.
var ErrDown = errors.New("not running")

// Mailbox is an actor's inbox and whether the actor is there to read it. Before the actor first
// starts, senders wait as for a busy actor; while it is down (its loop returned and waits to be
// restarted, or it was removed for good) they are answered at once with the reason.
type Mailbox[M any] struct {
	in chan M

	mu     sync.Mutex
	down   chan struct{} // closed while the actor is down
	why    error         // what Down or Close was told
	closed bool          // Close: down for good
}

// NewMailbox returns an empty mailbox whose actor has not started yet.
func NewMailbox[M any]() *Mailbox[M] {
	return &Mailbox[M]{in: make(chan M), down: make(chan struct{})}
}

// Receive is the actor's end of the inbox.
func (b *Mailbox[M]) Receive() <-chan M { return b.in }

// Up tells senders the actor reads its inbox again. It does nothing after Close.
func (b *Mailbox[M]) Up() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	select {
	case <-b.down:
		b.down = make(chan struct{})
	default:
	}
	b.why = nil
}

// Down tells senders, until the next Up, that the actor is not reading, and why.
func (b *Mailbox[M]) Down(why error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.why = why
	b.stop()
}

// Close tells senders the actor will never read again, and why.
func (b *Mailbox[M]) Close(why error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.why, b.closed = why, true
	}
	b.stop()
}

func (b *Mailbox[M]) stop() {
	select {
	case <-b.down:
	default:
		close(b.down)
	}
}

// watch returns the channel closed while the actor is down, as it is now.
func (b *Mailbox[M]) watch() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.down
}

// Err is why the actor is down, wrapping ErrDown.
func (b *Mailbox[M]) Err() error {
	b.mu.Lock()
	why := b.why
	b.mu.Unlock()
	if why == nil {
		return ErrDown
	}
	return &downError{why}
}

type downError struct{ why error }

func (e *downError) Error() string   { return e.why.Error() }
func (e *downError) Unwrap() []error { return []error{ErrDown, e.why} }

// Send delivers m, giving up when ctx ends or the actor is down.
func (b *Mailbox[M]) Send(ctx context.Context, m M) error {
	down := b.watch()
	select {
	case <-down: // known down: say so rather than race a loop that is still winding up
		return b.Err()
	default:
	}
	select {
	case b.in <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-down:
		return b.Err()
	}
}

// Ask delivers m and waits for its reply, giving up when ctx ends or the actor is down. The
// reply's buffer of one lets the actor answer a caller that already left.
func Ask[M, T any](ctx context.Context, b *Mailbox[M], m M, reply *Reply[T]) (T, error) {
	var zero T
	if err := b.Send(ctx, m); err != nil {
		return zero, err
	}
	down := b.watch()
	select {
	case v := <-reply.C():
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-down:
		select {
		case v := <-reply.C(): // answered as it went down
			return v, nil
		default:
		}
		return zero, b.Err()
	}
}

package actor

import "sync/atomic"

// Reply is the one answer an actor owes a caller. Whoever answers first (the loop, the loop's
// shutdown failing what is pending, or work that outlived the loop) is the answer; later answers
// are dropped, so no path can answer twice or block on a caller that left.
type Reply[T any] struct {
	c    chan T
	sent atomic.Bool
}

// NewReply returns a reply not yet given.
func NewReply[T any]() *Reply[T] { return &Reply[T]{c: make(chan T, 1)} }

// Send gives the answer, reporting whether it was the first.
func (r *Reply[T]) Send(v T) bool {
	if !r.sent.CompareAndSwap(false, true) {
		return false
	}
	r.c <- v
	return true
}

// Sent reports whether the answer was given.
func (r *Reply[T]) Sent() bool { return r.sent.Load() }

// C is where the caller receives the answer.
func (r *Reply[T]) C() <-chan T { return r.c }

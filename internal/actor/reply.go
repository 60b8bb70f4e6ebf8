package actor

import "sync"

// Reply is the one answer an actor owes a caller. Whoever answers first (the loop, the loop's
// shutdown failing what is pending, or work that outlived the loop) is the answer; later answers
// are dropped, so no path can answer twice or block on a caller that left.
type Reply[T any] struct {
	mu   sync.Mutex
	c    chan T
	sent bool
	drop func(T) // set by Abandon
}

// NewReply returns a reply not yet given.
func NewReply[T any]() *Reply[T] { return &Reply[T]{c: make(chan T, 1)} }

// Send gives the answer, reporting whether it was the first. An answer to a caller that left
// goes to what Abandon was given.
func (r *Reply[T]) Send(v T) bool {
	r.mu.Lock()
	if r.sent {
		r.mu.Unlock()
		return false
	}
	r.sent = true
	drop := r.drop
	if drop == nil {
		r.c <- v // never blocks: one answer, a buffer of one
	}
	r.mu.Unlock()
	if drop != nil {
		drop(v)
	}
	return true
}

// Sent reports whether the answer was given.
func (r *Reply[T]) Sent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent
}

// C is where the caller receives the answer.
func (r *Reply[T]) C() <-chan T { return r.c }

// Abandon is for a caller that leaves without its answer: an answer already given, or given
// later, goes to drop, so that what it holds (memory for a body) is given back.
func (r *Reply[T]) Abandon(drop func(T)) {
	r.mu.Lock()
	r.drop = drop
	var v T
	got := false
	select {
	case v = <-r.c:
		got = true
	default:
	}
	r.mu.Unlock()
	if got {
		drop(v)
	}
}

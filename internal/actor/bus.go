package actor

import "sync"

// Bus carries events from actors to whoever subscribes. Publishing never blocks: a subscriber
// whose buffer is full misses the event (it can always ask the actor for its current state).
type Bus[E any] struct {
	mu   sync.Mutex
	subs map[chan E]struct{}
}

// Subscribe returns a channel of the events published from now on, buffered for size events, and
// a function that ends the subscription.
func (b *Bus[E]) Subscribe(size int) (<-chan E, func()) {
	c := make(chan E, size)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan E]struct{}{}
	}
	b.subs[c] = struct{}{}
	b.mu.Unlock()
	return c, func() {
		b.mu.Lock()
		delete(b.subs, c)
		b.mu.Unlock()
	}
}

// Publish hands e to every subscriber with room for it.
func (b *Bus[E]) Publish(e E) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.subs {
		select {
		case c <- e:
		default:
		}
	}
}

package actor

import "context"

// Jobs runs work off an actor's loop and brings each result back into it as a function the
// loop applies to its state S: the loop never blocks on the network, a keychain or a disk.
// Jobs belongs to one run of the loop; its context ends with that run.
type Jobs[S any] struct {
	ctx      context.Context
	results  chan func(S)
	inFlight int
}

// NewJobs returns the jobs of a loop that runs until ctx ends.
func NewJobs[S any](ctx context.Context) *Jobs[S] {
	return &Jobs[S]{ctx: ctx, results: make(chan func(S))}
}

// Results is what the loop selects on and applies.
func (j *Jobs[S]) Results() <-chan func(S) { return j.results }

// InFlight counts the jobs whose result the loop has not applied yet. Only the loop calls it.
func (j *Jobs[S]) InFlight() int { return j.inFlight }

// Go runs work in a goroutine; its result comes back through Results. When the loop's run has
// ended first, orphan (if not nil) runs instead, so that work owing a caller an answer still
// gives one (through its Reply, which takes only the first). Only the loop calls Go.
func (j *Jobs[S]) Go(work func(ctx context.Context) func(S), orphan func()) {
	j.inFlight++
	go func() {
		apply := work(j.ctx)
		select {
		case j.results <- func(s S) { j.inFlight--; apply(s) }:
		case <-j.ctx.Done():
			if orphan != nil {
				orphan()
			}
		}
	}()
}

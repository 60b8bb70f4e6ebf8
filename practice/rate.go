package practice

import (
	"context"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// admit counts one request against the practice's budget per minute (see window), to be sent
// at start or later, but no later than latest (zero: no bound). It returns when to send it; a
// request that mustReserve is tried again when the store has answered, and one tooLate was not
// counted. The store is asked off the loop, and before a block runs out where it can be.
func (r *run) admit(start, latest time.Time) (time.Time, admission) {
	now := r.now()
	send, a := r.rate.take(now, start, latest)
	switch a {
	case mustReserve:
		r.reserve(minuteOf(send))
	case admitted:
		if k, ok := r.rate.ahead(now); ok {
			r.reserve(k)
		}
	}
	return send, a
}

// reserve asks the store for a block of minute k's requests in a tracked goroutine, unless a
// reservation is under way already: whoever waits for this one is tried again when that one
// answers, and asks again if it still needs to.
func (r *run) reserve(k int64) {
	if r.reserving {
		return
	}
	r.reserving = true
	waiting := len(r.rateWaiting)
	if r.refreshParked {
		waiting++
	}
	asked, told := r.rate.ask(k, waiting)
	store, base, limit := r.a.opts.Store, r.rate.base, r.rate.limit
	r.go_(func(ctx context.Context) func(*run) {
		res, err := store.ReserveRequests(ctx, base, minuteStart(k), asked, limit)
		return func(r *run) { r.reserved(base, k, asked, told, res, err) }
	})
}

// reserved applies the store's answer, then tries again what waited for it.
func (r *run) reserved(base string, k int64, asked, told int, res vault.Reservation, err error) {
	r.reserving = false
	if base == r.rate.base { // else the practice moved to another base meanwhile
		switch fellBack, back := r.rate.reserved(r.now(), k, asked, told, res, err); {
		case fellBack:
			r.log.Warn("the token store takes no reservations of this practice's requests, so this process keeps its rate limit "+
				"alone until it does (another healow process may then overrun it); reads go on", "err", err)
		case back:
			r.log.Info("the token store takes reservations again; the practice's rate limit is shared again")
		}
	}
	waiting := r.rateWaiting
	r.rateWaiting = nil
	if r.refreshParked {
		r.refreshParked = false
		r.sendRefresh()
	}
	r.fetchAgain(waiting)
}

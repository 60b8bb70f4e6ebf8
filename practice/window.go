package practice

import (
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// window keeps a practice's requests within its limit in every wall-clock minute (UTC minute
// boundaries, as eCW counts them), for every healow process on this machine together. eCW counts
// per FHIR base URL for the app as a whole and refuses the rest of the minute once over, so a
// token bucket (which lets a full burst through and then refills) or a count per process would
// both overrun it.
//
// Each process reserves small blocks of a minute's requests in the store and spends them
// without a write; what it does not spend lapses with the minute. When the store cannot be
// written the process counts alone, in the same per-minute shape, and tries the store again
// each minute. window is bookkeeping only: the actor's loop owns it, asks the store off the loop
// and tells it the answer (practice/rate.go).
type window struct {
	limit   int    // requests per minute, all processes together
	base    string // the FHIR base URL the counts are for
	alone   bool   // the store could not be written: this process counts alone
	retryAt time.Time
	minutes map[int64]*minuteCount // by minuteOf
}

// minuteCount is what this process knows of one minute.
type minuteCount struct {
	left       int  // reserved for this process in the store and not sent yet
	sent       int  // requests this process sent (or will send) in the minute
	spent      bool // the store had no more to give
	used       int  // requests every process had reserved when the store last answered
	unrecorded int  // sent while alone; told to the store with the next reservation
}

// admission is what take decided.
type admission int

const (
	admitted    admission = iota // counted; send then
	mustReserve                  // the minute's share must be asked of the store first
	tooLate                      // nothing frees before latest; send is the earliest it could
)

// aheadOfTurn is how close to a minute's end the next minute's block is reserved, so that a
// steady flow of requests does not wait for the store as the minute turns.
const aheadOfTurn = 2 * time.Second

func newWindow(limit int) *window {
	return &window{limit: max(limit, 1), minutes: map[int64]*minuteCount{}}
}

func minuteOf(t time.Time) int64       { return t.UTC().Truncate(time.Minute).Unix() / 60 }
func minuteStart(k int64) time.Time    { return time.Unix(k*60, 0) }
func nextMinute(t time.Time) time.Time { return minuteStart(minuteOf(t) + 1) }

// block is how many requests one reservation asks for: a tenth of the limit, between 1 and 25.
// Smaller blocks strand fewer requests in a process that goes quiet; larger ones cost fewer writes.
func (w *window) block() int { return min(max(w.limit/10, 1), 25) }

// rebase starts counting afresh for another base URL: eCW counts each apart.
func (w *window) rebase(base string) {
	if base != w.base {
		w.base, w.alone, w.retryAt, w.minutes = base, false, time.Time{}, map[int64]*minuteCount{}
	}
}

func (w *window) count(k int64) *minuteCount {
	c := w.minutes[k]
	if c == nil {
		c = &minuteCount{}
		w.minutes[k] = c
	}
	return c
}

// take finds the first moment from at when a request may be sent, no later than latest (zero:
// no bound), and counts the request in that moment's minute.
func (w *window) take(now, at, latest time.Time) (time.Time, admission) {
	for k := range w.minutes {
		if k < minuteOf(now) {
			delete(w.minutes, k)
		}
	}
	for {
		if !latest.IsZero() && at.After(latest) {
			return at, tooLate
		}
		k := minuteOf(at)
		c := w.minutes[k]
		switch {
		case c != nil && c.left > 0:
			c.left--
			c.sent++
			return at, admitted
		case w.alone:
			if c = w.count(k); c.sent < w.limit {
				c.sent++
				c.unrecorded++
				return at, admitted
			}
		case c == nil || !c.spent:
			return at, mustReserve
		}
		at = minuteStart(k + 1)
	}
}

// giveBack returns a request counted at send that was not sent after all.
func (w *window) giveBack(send time.Time) {
	c := w.minutes[minuteOf(send)]
	if c == nil || c.sent == 0 {
		return
	}
	c.sent--
	if c.unrecorded > 0 {
		c.unrecorded--
	} else {
		c.left++
	}
}

// ask is what to ask of the store for minute k when waiting requests wait for it: a block and
// one for each of them, and, when alone, what was sent unrecorded (told) on top.
func (w *window) ask(k int64, waiting int) (asked, told int) {
	told = w.count(k).unrecorded
	return min(w.block()+waiting, w.limit) + told, told
}

// ahead says which minute to reserve for before anyone has to wait for it: the current one when
// its block runs low, the next one in the last seconds of a busy minute, or, when alone, the
// current one once it is time to try the store again.
func (w *window) ahead(now time.Time) (int64, bool) {
	k := minuteOf(now)
	c := w.minutes[k]
	switch {
	case w.alone:
		return k, !now.Before(w.retryAt)
	case c == nil || c.sent == 0:
		return 0, false // nobody is sending
	case !c.spent && c.left <= w.block()/2:
		return k, true
	case nextMinute(now).Sub(now) <= aheadOfTurn && w.minutes[k+1] == nil:
		return k + 1, true
	}
	return 0, false
}

// reserved applies the store's answer to a reservation of minute k that asked for asked, told
// of them sent already. fellBack and back report that the process started, or stopped, counting
// alone.
func (w *window) reserved(now time.Time, k int64, asked, told int, r vault.Reservation, err error) (fellBack, back bool) {
	if err != nil {
		w.retryAt = nextMinute(now)
		fellBack, w.alone = !w.alone, true
		return fellBack, false
	}
	back, w.alone = w.alone, false
	c := w.count(k)
	c.unrecorded = max(c.unrecorded-told, 0)
	c.left += max(r.Granted-told, 0)
	c.used = r.Used
	c.spent = c.spent || r.Granted < asked
	return false, back
}

// left is how many more requests may go to the practice in now's minute, as far as this process
// knows: what it holds and what the store had not given to anyone when it last answered.
func (w *window) left(now time.Time) int {
	c := w.minutes[minuteOf(now)]
	switch {
	case c == nil:
		return w.limit
	case w.alone:
		return max(w.limit-c.sent, 0)
	case c.spent:
		return c.left
	}
	return c.left + max(w.limit-c.used, 0)
}

// exhausted reports whether now's minute has nothing left for this process.
func (w *window) exhausted(now time.Time) bool {
	c := w.minutes[minuteOf(now)]
	if w.alone {
		return c != nil && c.sent >= w.limit && c.left == 0
	}
	return c != nil && c.spent && c.left == 0
}

// latestOf is the latest of ts.
func latestOf(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}

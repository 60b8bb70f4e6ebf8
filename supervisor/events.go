package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/thejerf/suture/v4"
)

// recoveredAfter is how long a service must go without failing for its next failure to be news
// again. A practice that fails at every start is restarted every few seconds, suture's backoff
// included (FailureBackoff is 5 seconds); one that ran a minute had recovered.
const recoveredAfter = time.Minute

// eventHook sends suture's events to slog at levels that match what they mean. A service that
// keeps failing the same way (same service, same error text) is logged once at its level, then
// at debug until it recovers: it fails another way, or goes recoveredAfter without failing. So
// is a supervisor that keeps backing off, and its resuming. A practice whose server stays down
// thus leaves one warning, not one every restart, as syncthing's infoEventHook does; healow
// status still counts every restart.
func eventHook(log *slog.Logger, now func() time.Time) suture.EventHook {
	r := &repeats{last: map[string]failure{}, now: now}
	ctx := context.Background()
	return func(e suture.Event) {
		switch e := e.(type) {
		case suture.EventServicePanic:
			lvl, n := r.see(slog.LevelError, "service "+e.ServiceName, "panic: "+e.PanicMsg)
			log.Log(ctx, lvl, "service panicked", counted(n, "service", e.ServiceName, "restarting", e.Restarting, "panic", e.PanicMsg)...)
		case suture.EventServiceTerminate:
			lvl, n := r.see(slog.LevelWarn, "service "+e.ServiceName, fmt.Sprint("error: ", e.Err))
			log.Log(ctx, lvl, "service stopped", counted(n, "service", e.ServiceName, "restarting", e.Restarting, "err", e.Err)...)
		case suture.EventBackoff:
			lvl, n := r.see(slog.LevelWarn, "supervisor "+e.SupervisorName, "backoff")
			log.Log(ctx, lvl, "supervisor backing off after repeated failures", counted(n, "supervisor", e.SupervisorName)...)
		case suture.EventResume:
			lvl := slog.LevelInfo
			if r.repeating("supervisor " + e.SupervisorName) {
				lvl = slog.LevelDebug
			}
			log.Log(ctx, lvl, "supervisor resuming", "supervisor", e.SupervisorName)
		case suture.EventStopTimeout:
			log.Error("service did not stop in time", "service", e.ServiceName)
		}
	}
}

// counted adds to a repeat's attributes how many times in a row it happened.
func counted(repeat int, args ...any) []any {
	if repeat > 0 {
		args = append(args, "repeat", repeat)
	}
	return args
}

// repeats remembers each service's (or supervisor's) last failure. Suture calls the hook from
// each supervisor's own goroutine, hence the lock.
type repeats struct {
	mu   sync.Mutex
	last map[string]failure // by "service <name>" or "supervisor <name>"
	now  func() time.Time
}

type failure struct {
	text    string
	at      time.Time
	repeats int // how many times in a row it failed this way, after the first
}

// see records a failure of key with text and returns the level to log it at: level for the
// first of a run, debug for a repeat; and how many repeats this one makes (0 for the first).
func (r *repeats) see(level slog.Level, key, text string) (slog.Level, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for k, f := range r.last { // a failure this old is over: forget it, so the map stays small
		if now.Sub(f.at) >= recoveredAfter {
			delete(r.last, k)
		}
	}
	f, seen := r.last[key]
	if !seen || f.text != text {
		r.last[key] = failure{text: text, at: now}
		return level, 0
	}
	f.at, f.repeats = now, f.repeats+1
	r.last[key] = f
	return slog.LevelDebug, f.repeats
}

// repeating reports whether key's last failure repeated the one before it.
func (r *repeats) repeating(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[key].repeats > 0
}

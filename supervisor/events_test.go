package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/thejerf/suture/v4"
)

// levels is a slog handler that records every record's level, message and attributes.
type levels struct {
	mu      sync.Mutex
	records []logged
}

type logged struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *levels) Enabled(context.Context, slog.Level) bool { return true }
func (h *levels) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *levels) WithGroup(string) slog.Handler            { return h }
func (h *levels) Handle(_ context.Context, r slog.Record) error {
	l := logged{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { l.attrs[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, l)
	return nil
}

// take returns what was logged since the last take.
func (h *levels) take() []logged {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.records
	h.records = nil
	return out
}

// clock is a hand-moved clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newHook() (suture.EventHook, *levels, *clock) {
	h, c := &levels{}, &clock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	return eventHook(slog.New(h), c.now), h, c
}

func terminate(service string, err error) suture.EventServiceTerminate {
	return suture.EventServiceTerminate{SupervisorName: "practices", ServiceName: service, Restarting: true, Err: err}
}

// expect checks the levels of what was logged since the last call.
func expect(t *testing.T, h *levels, step string, want ...slog.Level) []logged {
	t.Helper()
	got := h.take()
	var lv []slog.Level
	for _, r := range got {
		lv = append(lv, r.level)
	}
	if fmt.Sprint(lv) != fmt.Sprint(want) {
		t.Fatalf("%s: logged at %v; want %v (%+v)", step, lv, want, got)
	}
	return got
}

// A practice that keeps failing the same way warns once, then logs at debug, counting; a
// different failure warns again, and so does the same one after the practice ran a minute.
func TestRepeatedFailuresAreLoggedOnceAtWarn(t *testing.T) {
	t.Parallel()
	hook, h, clk := newHook()
	down := errors.New("the keychain is locked")

	for range 3 {
		hook(terminate("practice pr_a", down))
		clk.add(5 * time.Second)
	}
	got := expect(t, h, "the same failure three times", slog.LevelWarn, slog.LevelDebug, slog.LevelDebug)
	if got[0].msg != "service stopped" || got[0].attrs["err"] != down.Error() || got[0].attrs["repeat"] != "" || got[2].attrs["repeat"] != "2" {
		t.Fatalf("records = %+v", got)
	}

	hook(terminate("practice pr_b", down)) // another practice failing the same way is news
	expect(t, h, "another practice", slog.LevelWarn)

	other := errors.New("the store is damaged")
	hook(terminate("practice pr_a", other))
	hook(terminate("practice pr_a", other))
	hook(terminate("practice pr_a", down)) // back to the first failure: a change, so news
	expect(t, h, "a different failure, twice, then the first again", slog.LevelWarn, slog.LevelDebug, slog.LevelWarn)

	clk.add(recoveredAfter - time.Second)
	hook(terminate("practice pr_a", down))
	expect(t, h, "the same failure within a minute", slog.LevelDebug)

	clk.add(recoveredAfter) // it ran a minute: recovered
	hook(terminate("practice pr_a", down))
	expect(t, h, "the same failure after a minute without one", slog.LevelWarn)
}

// A panic is an error the first time and a debug line while it repeats.
func TestRepeatedPanicsAreLoggedOnce(t *testing.T) {
	t.Parallel()
	hook, h, _ := newHook()
	for range 3 {
		hook(suture.EventServicePanic{SupervisorName: "practices", ServiceName: "practice pr_a", PanicMsg: "nil map"})
	}
	hook(suture.EventServicePanic{SupervisorName: "practices", ServiceName: "practice pr_a", PanicMsg: "index out of range"})
	hook(terminate("practice pr_a", errors.New("nil map"))) // a plain failure is not the panic
	expect(t, h, "panics", slog.LevelError, slog.LevelDebug, slog.LevelDebug, slog.LevelError, slog.LevelWarn)
}

// A supervisor that keeps backing off warns on the first backoff and says it resumed once; then
// both are debug lines, until it goes a minute without backing off.
func TestRepeatedBackoffsAreLoggedOnce(t *testing.T) {
	t.Parallel()
	hook, h, clk := newHook()
	cycle := func() {
		hook(suture.EventBackoff{SupervisorName: "practices"})
		clk.add(5 * time.Second)
		hook(suture.EventResume{SupervisorName: "practices"})
	}
	cycle()
	expect(t, h, "first backoff", slog.LevelWarn, slog.LevelInfo)
	cycle()
	cycle()
	expect(t, h, "backoffs that repeat", slog.LevelDebug, slog.LevelDebug, slog.LevelDebug, slog.LevelDebug)
	hook(suture.EventBackoff{SupervisorName: "healow"})
	expect(t, h, "another supervisor", slog.LevelWarn)
	clk.add(recoveredAfter)
	cycle()
	expect(t, h, "a backoff after a quiet minute", slog.LevelWarn, slog.LevelInfo)
	hook(suture.EventStopTimeout{SupervisorName: "practices", ServiceName: "practice pr_a"})
	hook(suture.EventStopTimeout{SupervisorName: "practices", ServiceName: "practice pr_a"})
	expect(t, h, "stop timeouts", slog.LevelError, slog.LevelError)
}

// Suture calls the hook from each supervisor's goroutine.
func TestEventHookFromSeveralSupervisors(t *testing.T) {
	t.Parallel()
	hook, h, _ := newHook()
	var wg sync.WaitGroup
	for _, sup := range []string{"healow", "practices"} {
		wg.Go(func() {
			for range 50 {
				hook(terminate("practice in "+sup, errors.New("down")))
				hook(suture.EventBackoff{SupervisorName: sup})
				hook(suture.EventResume{SupervisorName: sup})
			}
		})
	}
	wg.Wait()
	warns := 0
	for _, r := range h.take() {
		if r.level >= slog.LevelWarn {
			warns++
		}
	}
	if warns != 4 { // per supervisor, its service's first failure and its first backoff
		t.Fatalf("%d warnings, want 4", warns)
	}
}

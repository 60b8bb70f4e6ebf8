package practice

import (
	"errors"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// windowT0 is five seconds into a minute.
var windowT0 = time.Date(2026, 3, 14, 15, 9, 5, 0, time.UTC)

// grant answers a reservation of minute k as a store with free requests left in it would.
func grant(w *window, now time.Time, k int64, waiting, free int) (asked, granted int) {
	asked, told := w.ask(k, waiting)
	granted = min(asked, free)
	w.reserved(now, k, asked, told, vault.Reservation{Minute: minuteStart(k), Granted: granted, Used: 250 - free + granted}, nil)
	return asked, granted
}

func TestWindowSpendsBlocksWithinTheMinute(t *testing.T) {
	t.Parallel()
	w := newWindow(250)
	now := windowT0
	k := minuteOf(now)
	if w.block() != 25 {
		t.Fatalf("block = %d, want 25 for 250 a minute", w.block())
	}
	if _, a := w.take(now, now, time.Time{}); a != mustReserve {
		t.Fatalf("the first request: %v, want it to wait for a reservation", a)
	}
	if _, granted := grant(w, now, k, 1, 250); granted != 26 {
		t.Fatalf("granted %d, want a block and one for the request waiting", granted)
	}
	for i := range 26 {
		if send, a := w.take(now, now, time.Time{}); a != admitted || !send.Equal(now) {
			t.Fatalf("request %d: %v at %v", i, a, send)
		}
	}
	if _, a := w.take(now, now, time.Time{}); a != mustReserve {
		t.Fatalf("past the block: %v, want a reservation", a)
	}
	if got := w.left(now); got != 250-26 {
		t.Fatalf("left = %d, want %d", got, 250-26)
	}
}

// A minute the store has no more for sends the next request in the next minute, or refuses it
// when that is past latest; a spent minute tells health so.
func TestWindowMovesToTheNextMinuteWhenSpent(t *testing.T) {
	t.Parallel()
	w := newWindow(250)
	now := windowT0
	k := minuteOf(now)
	grant(w, now, k, 0, 3) // other processes took 247
	for range 3 {
		if _, a := w.take(now, now, time.Time{}); a != admitted {
			t.Fatalf("%v", a)
		}
	}
	if !w.exhausted(now) || w.left(now) != 0 {
		t.Fatalf("exhausted %v, left %d; want the minute spent", w.exhausted(now), w.left(now))
	}
	next := minuteStart(k + 1)
	if send, a := w.take(now, now, now.Add(20*time.Second)); a != tooLate || !send.Equal(next) {
		t.Fatalf("55 s before the minute turns: %v at %v, want refused, free at %v", a, send, next)
	}
	late := now.Add(45 * time.Second)
	if send, a := w.take(now, late, late.Add(20*time.Second)); a != mustReserve || !send.Equal(next) {
		t.Fatalf("15 s before: %v at %v, want the next minute's reservation", a, send)
	}
	grant(w, late, k+1, 1, 250)
	if send, a := w.take(late, late, late.Add(20*time.Second)); a != admitted || !send.Equal(next) {
		t.Fatalf("%v at %v, want it sent as the minute turns, at %v", a, send, next)
	}
	// Once the minute has turned, the old one is forgotten.
	w.take(next, next, time.Time{})
	if _, ok := w.minutes[k]; ok {
		t.Fatal("a past minute is still kept")
	}
}

// A request counted and then not sent (the circuit refused it) is given back.
func TestWindowGivesBack(t *testing.T) {
	t.Parallel()
	w := newWindow(250)
	now := windowT0
	grant(w, now, minuteOf(now), 0, 250)
	send, _ := w.take(now, now, time.Time{})
	before := w.left(now)
	w.giveBack(send)
	if w.left(now) != before+1 || w.minutes[minuteOf(now)].sent != 0 {
		t.Fatalf("left %d after giving back, want %d", w.left(now), before+1)
	}
}

// The next block is asked for before the current one runs out, and the next minute's in the
// last seconds of a busy minute; nothing is asked for while nobody sends.
func TestWindowReservesAhead(t *testing.T) {
	t.Parallel()
	w := newWindow(250)
	now := windowT0
	k := minuteOf(now)
	if _, ok := w.ahead(now); ok {
		t.Fatal("reserving ahead while nobody sends")
	}
	grant(w, now, k, 0, 250)
	for range 12 {
		w.take(now, now, time.Time{})
	}
	if _, ok := w.ahead(now); ok {
		t.Fatal("reserving with 13 of 25 left")
	}
	w.take(now, now, time.Time{})
	if got, ok := w.ahead(now); !ok || got != k {
		t.Fatalf("with 12 left: ahead = %d, %v; want this minute", got, ok)
	}
	grant(w, now, k, 0, 250)
	end := minuteStart(k + 1).Add(-time.Second)
	w.take(end, end, time.Time{})
	if got, ok := w.ahead(end); !ok || got != k+1 {
		t.Fatalf("a second before the minute turns: ahead = %d, %v; want the next minute", got, ok)
	}
	grant(w, end, k+1, 0, 250)
	if _, ok := w.ahead(end); ok {
		t.Fatal("the next minute reserved twice")
	}
}

// A store that takes no reservation leaves the process counting alone, in the same shape, and
// saying so once; what it sent meanwhile is told to the store when it takes reservations again.
func TestWindowCountsAloneWhenTheStoreFails(t *testing.T) {
	t.Parallel()
	w := newWindow(10)
	now := windowT0
	k := minuteOf(now)
	grant(w, now, k, 0, 10) // a block of one: 10 a minute
	w.take(now, now, time.Time{})
	broken := errors.New("database is locked")
	asked, told := w.ask(k, 0)
	if fellBack, _ := w.reserved(now, k, asked, told, vault.Reservation{}, broken); !fellBack {
		t.Fatal("falling back was not reported")
	}
	if fellBack, _ := w.reserved(now, k, asked, told, vault.Reservation{}, broken); fellBack {
		t.Fatal("falling back was reported twice")
	}
	for i := range 9 {
		if _, a := w.take(now, now, time.Time{}); a != admitted {
			t.Fatalf("alone, request %d: %v", i+2, a)
		}
	}
	if send, a := w.take(now, now, now.Add(20*time.Second)); a != tooLate || !send.Equal(minuteStart(k+1)) || !w.exhausted(now) {
		t.Fatalf("the 11th in a minute, alone: %v at %v", a, send)
	}
	if _, ok := w.ahead(now); ok {
		t.Fatal("the store is tried again within the minute it failed")
	}
	next := minuteStart(k + 1)
	for range 3 {
		w.take(next, next, time.Time{})
	}
	got, ok := w.ahead(next)
	if !ok || got != k+1 {
		t.Fatalf("the next minute: ahead = %d, %v; want the store tried again", got, ok)
	}
	asked, told = w.ask(k+1, 0)
	if told != 3 || asked != 4 {
		t.Fatalf("ask = %d, telling %d; want a block and the 3 sent alone", asked, told)
	}
	if _, back := w.reserved(next, k+1, asked, told, vault.Reservation{Granted: asked, Used: asked}, nil); !back || w.alone {
		t.Fatal("sharing again was not reported")
	}
	if c := w.minutes[k+1]; c.left != 1 || c.unrecorded != 0 || c.sent != 3 {
		t.Fatalf("after telling the store: %+v, want one left and nothing unrecorded", *c)
	}
}

func TestWindowStartsAfreshForAnotherBase(t *testing.T) {
	t.Parallel()
	w := newWindow(250)
	w.rebase("https://fhir4.healow.com/fhir/r4/AAAAAA")
	now := windowT0
	grant(w, now, minuteOf(now), 0, 250)
	w.rebase("https://fhir4.healow.com/fhir/r4/AAAAAA")
	if len(w.minutes) != 1 {
		t.Fatal("the same base lost its counts")
	}
	w.rebase("https://fhir4.healow.com/fhir/r4/BBBBBB")
	if len(w.minutes) != 0 || w.left(now) != 250 {
		t.Fatal("another base kept the old one's counts")
	}
}

// BenchmarkWindowLocalBlock is what the rate limit costs a request that finds its minute's
// block in hand: the count and the look ahead that admit does in the actor's loop. The store's
// answers come at once here (one in 25 requests asks); see vault's BenchmarkReserveRequests for
// what one costs.
func BenchmarkWindowLocalBlock(b *testing.B) {
	w := newWindow(1 << 30)
	now := windowT0
	k := minuteOf(now)
	grant(w, now, k, 0, 1<<30)
	for b.Loop() {
		if _, a := w.take(now, now, time.Time{}); a != admitted {
			b.Fatal(a)
		}
		if _, ok := w.ahead(now); ok {
			grant(w, now, k, 0, 1<<30)
		}
	}
}

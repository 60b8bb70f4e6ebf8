package practice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigAnswers routes Observation/0 to Observation/63 to bodies of size bytes, said with a
// Content-Length for even ids and streamed without one for odd ids.
func bigAnswers(t *testing.T, size int) *fakeECW {
	body := bytes.Repeat([]byte("x"), size)
	routes := map[string]http.HandlerFunc{}
	for i := range 64 {
		routes["Observation/"+strconv.Itoa(i)] = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			if i%2 == 0 {
				w.Header().Set("Content-Length", strconv.Itoa(size))
			}
			for rest := body; len(rest) > 0; rest = rest[min(len(rest), 1<<20):] {
				if _, err := w.Write(rest[:min(len(rest), 1<<20)]); err != nil {
					return
				}
			}
		}
	}
	return hostileECW(t, routes)
}

// 64 answers of 15 MiB at once once peaked at 8 GB. With a budget, the answers held at once
// never pass it: callers wait their turn, and every answer arrives whole.
func TestBudgetBoundsAnswersInFlight(t *testing.T) {
	t.Parallel()
	const size, callers = 15 << 20, 64
	budget := NewBudget(64 << 20) // four 15 MiB answers
	waited := make(chan struct{}, 1)
	budget.onWait = func() {
		select {
		case waited <- struct{}{}:
		default:
		}
	}
	h := startActor(t, bigAnswers(t, size), time.Now().Add(time.Hour), func(o *Options) {
		o.Budget = budget
		o.RequestTimeout = 10 * time.Minute // waiting in line counts: the last wait for 60 others
	})
	// Every caller keeps its answer until four are held and a fifth waits for budget: the bound
	// is reached for sure, not by luck of timing.
	gate := make(chan struct{})
	arrived := make(chan struct{}, callers)
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Go(func() {
			resp, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation", ID: strconv.Itoa(i)})
			if err != nil {
				errs <- err
				return
			}
			defer resp.Release()
			if len(resp.Body) != size {
				errs <- fmt.Errorf("answer %d: %d bytes", i, len(resp.Body))
			}
			arrived <- struct{}{}
			<-gate
		})
	}
	for range 4 {
		<-arrived
	}
	<-waited
	if in := budget.InUse(); in > budget.Size() || in < 4*size {
		t.Fatalf("with four answers held and callers waiting, %d bytes are in use", in)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if peak, in := budget.Peak(), budget.InUse(); peak > budget.Size() || in != 0 {
		t.Fatalf("peak %d MiB of a %d MiB budget, %d bytes still held", peak>>20, budget.Size()>>20, in)
	}
	t.Logf("%d answers of %d MiB: peak %.1f MiB of a %d MiB budget", callers, size>>20, float64(budget.Peak())/(1<<20), budget.Size()>>20)
}

// A caller waiting for budget leaves as soon as it gives up, holding nothing, and the next one
// gets the budget once it is free.
func TestWaitingForBudgetEndsWithTheCaller(t *testing.T) {
	t.Parallel()
	const size = 3 << 20
	budget := NewBudget(4 << 20) // room for one answer
	waited := make(chan struct{}, 1)
	budget.onWait = func() { waited <- struct{}{} }
	h := startActor(t, bigAnswers(t, size), time.Now().Add(time.Hour), func(o *Options) { o.Budget = budget })
	first, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation", ID: "0"})
	if err != nil {
		t.Fatal(err)
	}
	// What the first answer holds stays held while the caller holds the answer, however often
	// the garbage collector runs (a copy of the answer once let the original's collection free it).
	runtime.GC()
	runtime.GC()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.actor.Fetch(ctx, Request{Resource: "Observation", ID: "2"})
		done <- err
	}()
	select {
	case <-waited:
	case err := <-done:
		t.Fatalf("the second answer did not wait for the first's budget (%v): it was given back while held", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a caller who gave up while waiting: %v", err)
	}
	first.Release()
	first.Release() // a second release gives nothing back twice
	third, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation", ID: "1"})
	if err != nil || len(third.Body) != size {
		t.Fatalf("after the first answer was released: %v", err)
	}
	third.Release()
	if in := budget.InUse(); in != 0 {
		t.Fatalf("%d bytes still held", in)
	}
}

// A body is read into a buffer no larger than what it holds, and what it holds past the body
// is given back once it is read; a body that says it is over the bound is not read.
func TestBudgetReadHoldsWhatItKeeps(t *testing.T) {
	t.Parallel()
	b := NewBudget(64 << 20)
	ctx := context.Background()
	for _, tc := range []struct {
		size   int
		length int64
	}{{0, -1}, {10, -1}, {10, 10}, {3 << 20, -1}, {3 << 20, 3 << 20}, {16 << 20, -1}} {
		body, h, err := b.read(ctx, bytes.NewReader(make([]byte, tc.size)), tc.length, 16<<20)
		if err != nil || len(body) != tc.size || h.n != int64(cap(body)) || cap(body) > tc.size+4<<10 || b.InUse() != h.n {
			t.Fatalf("%d bytes (length %d): %d read, cap %d, held %d, in use %d, %v", tc.size, tc.length, len(body), cap(body), h.n, b.InUse(), err)
		}
		h.release()
	}
	if body, h, _ := b.read(ctx, bytes.NewReader(make([]byte, 17<<20)), -1, 16<<20); len(body) != 16<<20+1 {
		t.Fatalf("a body over the bound: %d bytes read", len(body))
	} else {
		h.release()
	}
	if _, _, err := b.read(ctx, strings.NewReader(""), 100<<20, 16<<20); !errors.Is(err, errBodyTooLarge) {
		t.Fatalf("a body that says it is 100 MiB: %v", err)
	}
	if b.InUse() != 0 || b.Peak() > b.Size() {
		t.Fatalf("in use %d, peak %d", b.InUse(), b.Peak())
	}
}

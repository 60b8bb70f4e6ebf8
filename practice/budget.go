package practice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// DefaultBudget is the budget of answer bytes in flight that every practice actor of a process
// shares when Options.Budget is nil. 128 MiB is eight answers at the 16 MiB body bound at once,
// and hundreds of ordinary ones (a page of results is tens of KiB): an MCP client calls a few
// tools at a time, so only a burst of huge answers ever waits, and reading them is bound by the
// CPU anyway. Turning an answer into a result takes a few times its size again (the cleaned
// copy, its entries, the result), so 64 concurrent 15 MiB pages peak at about 650 MiB of heap
// with it, against 4.7 GiB without (BenchmarkConcurrentLargeAnswers in mcp).
const DefaultBudget = 128 << 20

// processBudget is the one budget of a process whose actors were given none.
var processBudget = NewBudget(DefaultBudget)

// Budget bounds the bytes of practice answers held in memory at once, across every practice
// actor that shares it. A request holds budget for its body before reading it: the whole body
// at once when the practice says its length, else a first megabyte and then, if the body grows
// past it, enough for the body bound. What it holds past the body's size is given back once
// the body is read, and the rest when the caller calls Response.Release, which the MCP layer
// does once the answer has become a tool result. Callers wait for budget in turn (first come,
// first served), and stop waiting when their context ends. Nobody waits while holding budget:
// a body that must wait to grow gives back what it holds and waits for all it needs at once,
// so two bodies never wait on each other.
type Budget struct {
	size int64
	sem  *semaphore.Weighted

	// Counts beside the semaphore, which does not say what it holds: for health and benchmarks.
	used, peak atomic.Int64

	onWait func() // for tests: called when a request has to wait
}

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) *Budget {
	return &Budget{size: size, sem: semaphore.NewWeighted(size)}
}

// Size is the budget's size in bytes.
func (b *Budget) Size() int64 { return b.size }

// InUse is how many bytes requests hold now.
func (b *Budget) InUse() int64 { return b.used.Load() }

// Peak is the most bytes requests have held at once.
func (b *Budget) Peak() int64 { return b.peak.Load() }

func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.size {
		return fmt.Errorf("%w: %d MiB, more than the %d MiB this process reads at once", errBodyTooLarge, n>>20, b.size>>20)
	}
	if !b.tryAcquire(n) {
		if b.onWait != nil {
			b.onWait()
		}
		if err := b.sem.Acquire(ctx, n); err != nil {
			return fmt.Errorf("waiting for memory to read the answer, while other answers held %d of the %d MiB this process reads at once: %w",
				b.InUse()>>20, b.size>>20, err)
		}
		b.count(n)
	}
	return nil
}

func (b *Budget) tryAcquire(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.count(n)
	return true
}

func (b *Budget) count(n int64) {
	used := b.used.Add(n)
	for {
		peak := b.peak.Load()
		if used <= peak || b.peak.CompareAndSwap(peak, used) {
			return
		}
	}
}

func (b *Budget) release(n int64) {
	if n == 0 {
		return
	}
	b.used.Add(-n)
	b.sem.Release(n)
}

// hold is the budget one answer holds.
type hold struct {
	b    *Budget
	n    int64
	once sync.Once
}

// grow makes the hold total bytes. When that means waiting, it gives back what it holds first
// and waits for total in one piece; on an error it holds nothing.
func (h *hold) grow(ctx context.Context, total int64) error {
	if total <= h.n || h.b.tryAcquire(total-h.n) {
		h.n = max(h.n, total)
		return nil
	}
	h.b.release(h.n)
	h.n = 0
	if err := h.b.acquire(ctx, total); err != nil {
		return err
	}
	h.n = total
	return nil
}

// trim gives back what the hold has over n.
func (h *hold) trim(n int64) {
	if n < h.n {
		h.b.release(h.n - n)
		h.n = n
	}
}

// release gives the hold back; only the first call does anything.
func (h *hold) release() {
	if h != nil {
		h.once.Do(func() { h.b.release(h.n) })
	}
}

// firstStep is what a body of unknown length holds before it has been read past it: most FHIR
// answers are far smaller, and a body that grows past it then holds enough for the body bound
// at once, so that two growing bodies never wait on each other for the rest.
const firstStep = 1 << 20

// read reads at most limit+1 bytes of r (a body of length bytes, or -1 when unknown) into
// memory, holding budget for them as it goes. A body that says it is longer than limit is not
// read at all. On an error, nothing is held.
func (b *Budget) read(ctx context.Context, r io.Reader, length, limit int64) ([]byte, *hold, error) {
	if length > limit {
		return nil, nil, fmt.Errorf("%w: the practice's answer says it is %d MiB, more than the %d MiB read; ask for less (a smaller _count, a narrower date range)",
			errBodyTooLarge, length>>20, limit>>20)
	}
	h := &hold{b: b}
	first := int64(firstStep)
	if length >= 0 {
		first = length + 1 // room to see the end
	}
	first = min(first, limit+1)
	if err := h.grow(ctx, first); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 0, min(first, 8<<10))
	if length >= 0 {
		buf = make([]byte, 0, first)
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				break
			}
			next := min(max(2*int64(cap(buf)), 8<<10), limit+1)
			if next > h.n { // past the first step: hold enough for the bound at once
				if err := h.grow(ctx, min(limit+1, b.size)); err != nil {
					return nil, nil, err
				}
				if next > h.n {
					h.release()
					return nil, nil, fmt.Errorf("%w: the practice's answer is more than the %d MiB this process reads at once", errBodyTooLarge, b.size>>20)
				}
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			h.release()
			return nil, nil, err
		}
	}
	if cap(buf)-len(buf) > 4<<10 {
		buf = bytes.Clone(buf) // what is held is what is kept
	}
	h.trim(int64(cap(buf)))
	return buf, h, nil
}

// held attaches the budget an answer holds to its Response. A Response that is dropped without
// Release gives it back when the garbage collector finds it, so that a caller who forgot cannot
// starve the process for good.
func (r *Response) held(h *hold) {
	if h == nil || h.n == 0 {
		return
	}
	r.budget = h
	runtime.AddCleanup(r, func(h *hold) { h.release() }, h)
}

// Release gives back the memory budget the answer holds (see Budget). Call it once the answer
// has been used, e.g. turned into a tool result; later calls do nothing.
func (r *Response) Release() {
	if r != nil {
		r.budget.release()
	}
}

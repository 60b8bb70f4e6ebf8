package mcp

import (
	"context"
	"fmt"
	"math"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

// reportProgress gives a tool call whose client sent a progressToken a reporter, which tools
// reach through progressFrom and practice actors through practice.WithProgress, and which turns
// what they report into notifications/progress. A call without a token gets none: no
// notification is sent for it. (MCP's logging notifications are not used: stderr is the log.)
func reportProgress(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		r, ok := req.(*sdk.CallToolRequest)
		if !ok || r.Params == nil || r.Session == nil || !isProgressToken(r.Params.GetProgressToken()) {
			return next(ctx, method, req)
		}
		p := newProgress(ctx, r.Params.GetProgressToken(), r.Session.NotifyProgress)
		defer p.close()
		ctx = context.WithValue(ctx, progressKey{}, p)
		return next(practice.WithProgress(ctx, p.wait), method, req)
	}
}

// isProgressToken accepts what MCP allows a progress token to be: a string or a number.
func isProgressToken(v any) bool {
	switch v.(type) {
	case string, float64, int, int64:
		return true
	}
	return false
}

type progressKey struct{}

// progressFrom is the call's reporter, or nil when its client asked for no progress: every
// method of a nil *progress does nothing, so tools call them without checking.
func progressFrom(ctx context.Context) *progress {
	p, _ := ctx.Value(progressKey{}).(*progress)
	return p
}

// progress is one tool call's reporter. Progress counts units of the call's work: pages read,
// or practices answered once Expect has said how many; a step between two units (a wait, a page
// of one of several practices) moves it half-way to the next, so that it rises with every
// notification, as MCP demands, and total stays true.
//
// Reporting never waits for the client: the newest notification not yet sent replaces an older
// one (a slow client sees fewer), and one goroutine per call sends them in order. The call's
// result waits for the notification being written, so none follows it.
type progress struct {
	ctx    context.Context
	token  any
	notify func(context.Context, *sdk.ProgressNotificationParams) error

	mu      sync.Mutex
	done    int     // units finished
	total   int     // units expected, 0 when unknown
	last    float64 // the progress last queued, which the next must pass
	pending *sdk.ProgressNotificationParams
	closed  bool
	started bool
	names   map[string]string // practice names by id, asked once per call

	wake   chan struct{} // buffer of one: the sender has something to do
	exited chan struct{} // closed when the sender is gone
}

func newProgress(ctx context.Context, token any, notify func(context.Context, *sdk.ProgressNotificationParams) error) *progress {
	return &progress{ctx: ctx, token: token, notify: notify, wake: make(chan struct{}, 1), exited: make(chan struct{})}
}

// Step says what the call is doing, between two units of its work.
func (p *progress) Step(msg string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue(msg, false)
}

// Page says that a read of resource from a's practice has read pages pages so far, holding
// results matches (-1 when it does not count them). Pages are the call's units unless Expect
// gave it others.
func (p *progress) Page(a *practice.Actor, resource string, pages, results int) {
	if p == nil {
		return
	}
	name := p.name(a)
	msg := fmt.Sprintf("read %s from %s", pagesOf(pages, resource), name)
	switch {
	case results == 1:
		msg += ", 1 result so far"
	case results >= 0:
		msg += fmt.Sprintf(", %d results so far", results)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue(msg, p.total == 0)
}

// Expect says the call's work is n practices, each told done by Answered: a fan-out over the
// practices calls it before the first answers.
func (p *progress) Expect(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = n
}

// Answered says that a's practice has given its part of the call (ok) or failed.
func (p *progress) Answered(a *practice.Actor, ok bool) {
	if p == nil {
		return
	}
	name := p.name(a)
	p.mu.Lock()
	defer p.mu.Unlock()
	what := "answered"
	if !ok {
		what = "failed"
	}
	p.queue(fmt.Sprintf("%s %s (%d of %d practices done)", name, what, p.done+1, p.total), true)
}

// wait is the practice actors' reporter: it is called from a request's goroutine and returns
// at once.
func (p *progress) wait(s practice.Step) { p.Step(s.String()) }

// name is how messages call a's practice, asked of the actor once per call; a practice that does
// not answer is called by its id.
func (p *progress) name(a *practice.Actor) string {
	if a == nil {
		return "the practice"
	}
	p.mu.Lock()
	name, ok := p.names[a.ID()]
	p.mu.Unlock()
	if ok {
		return name
	}
	name = a.ID()
	if info, err := a.Info(p.ctx); err == nil && info.Name != "" {
		name = fmt.Sprintf("%q", info.Name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.names == nil {
		p.names = map[string]string{}
	}
	p.names[a.ID()] = name
	return name
}

// queue makes msg the next notification: a unit finished or a step towards the next. Called
// with p.mu held.
func (p *progress) queue(msg string, unit bool) {
	if p.closed {
		return
	}
	// A unit lands on its count; a step half-way from the last to the next whole number, which
	// the next unit passes.
	unitNext := math.Floor(p.last) + 1
	next := p.last + (unitNext-p.last)/2
	if unit {
		p.done++
		next = float64(p.done)
	}
	// Half-way steps run out of precision after some fifty, and would round up to the next
	// unit: those are not told.
	if next <= p.last || (!unit && next >= unitNext) {
		return
	}
	p.last = next
	n := &sdk.ProgressNotificationParams{ProgressToken: p.token, Message: msg, Progress: next}
	if p.total > 0 && next <= float64(p.total) {
		n.Total = float64(p.total)
	}
	p.pending = n
	if !p.started {
		p.started = true
		go p.send()
	}
	select {
	case p.wake <- struct{}{}:
	default: // the sender is already due to look
	}
}

// send writes what is pending until the call ends, or the client is gone.
func (p *progress) send() {
	defer close(p.exited)
	for range p.wake {
		for {
			p.mu.Lock()
			n, closed := p.pending, p.closed
			p.pending = nil
			p.mu.Unlock()
			if n == nil {
				if closed {
					return
				}
				break
			}
			if err := p.notify(p.ctx, n); err != nil {
				return // the session or the call is over: nobody is left to tell
			}
		}
	}
}

// close ends the reporting when the call's result is ready: what is pending is still sent, and
// the result waits for it (or for the call to be cancelled), so that no notification follows
// the result. A client that reads nothing blocks its own result, as it would anyway, and nothing
// else: the actors were never waiting on it.
func (p *progress) close() {
	p.mu.Lock()
	p.closed = true
	started := p.started
	p.mu.Unlock()
	if !started {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-p.exited:
	case <-p.ctx.Done():
	}
}

func pagesOf(n int, resource string) string {
	s := fmt.Sprintf("%d page", n)
	if n != 1 {
		s += "s"
	}
	if resource != "" {
		s += " of " + resource
	}
	return s
}

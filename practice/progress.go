package practice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Wait is what a request waits for before it goes out.
type Wait string

const (
	WaitRateLimit Wait = "rate-limit" // the minute's budget, HEALOW_RATE_LIMIT, which every healow process here shares
	WaitHold      Wait = "hold"       // the practice answered 429 and refuses requests until a time
	WaitRetry     Wait = "retry"      // a backoff after a failed attempt
)

// Step is a wait a request meets while it works, told as it begins to whoever asked for
// progress (an MCP client that sent a progressToken) so that a call held for seconds does not
// look hung. It names the practice, times and counts, never the patient or what was asked.
type Step struct {
	Practice  string    // the practice's name
	Wait      Wait      // what it waits for
	Until     time.Time // when the wait ends
	Attempt   int       // the attempt it waits to make, 1 for the first
	Attempts  int       // the most attempts a request gets
	PerMinute int       // for WaitRateLimit: HEALOW_RATE_LIMIT
	Failure   string    // for WaitRetry: what went wrong with the attempt before, in a few words
}

// String says the step in a sentence a person reads as it happens.
func (s Step) String() string {
	at := clock(s.Until)
	switch s.Wait {
	case WaitRetry:
		return fmt.Sprintf("%q failed (%s): trying again at %s, attempt %d of %d", s.Practice, s.Failure, at, s.Attempt, s.Attempts)
	case WaitHold:
		return fmt.Sprintf("%q answered 429 (too many requests): waiting until %s, when it accepts requests again", s.Practice, at)
	}
	return fmt.Sprintf("waiting for the rate limit of %q (%d requests a minute, HEALOW_RATE_LIMIT) until %s", s.Practice, s.PerMinute, at)
}

type progressKey struct{}

// WithProgress returns a context whose Fetch calls tell report each wait they meet. report is
// called from the request's own goroutine, never from the actor's loop, and must return at once:
// a reporter that cannot keep up (a slow client) drops or merges steps rather than hold the
// request, which holds a place in the practice's rate limit.
func WithProgress(ctx context.Context, report func(Step)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// progressOf is the reporter in ctx, or nil.
func progressOf(ctx context.Context) func(Step) {
	f, _ := ctx.Value(progressKey{}).(func(Step))
	return f
}

// waitStep says what a request dispatched now waits delay for: a retry's backoff, the
// practice's 429 hold (held: the hold is what ends last) or the budget per minute. The zero
// Step when it goes at once.
func (r *run) waitStep(m *fetchMsg, delay time.Duration, held bool) Step {
	if delay <= 0 {
		return Step{}
	}
	s := Step{Practice: r.meta.Name, Until: r.now().Add(delay), Attempt: m.retries + 1, Attempts: r.a.opts.MaxRetries + 1}
	switch {
	case m.retries > 0:
		s.Wait, s.Failure = WaitRetry, failureWords(m.failed)
	case held:
		s.Wait = WaitHold
	default:
		s.Wait, s.PerMinute = WaitRateLimit, r.a.opts.RequestsPerMinute
	}
	return s
}

// report tells the request's reporter, if any, the wait it is about to begin.
func (j fetchJob) report(ctx context.Context) {
	if f := progressOf(ctx); f != nil && j.wait.Wait != "" {
		f(j.wait)
	}
}

// failureWords names a failed attempt by its HTTP status or as no answer: an error's own text
// may repeat what the practice said, which a progress message must not carry.
func failureWords(err error) string {
	var fe *FHIRError
	switch {
	case errors.As(err, &fe) && fe.Status == http.StatusTooManyRequests:
		return "HTTP 429, too many requests"
	case errors.As(err, &fe):
		return fmt.Sprintf("HTTP %d", fe.Status)
	case err == nil:
		return "no answer"
	}
	return "no complete answer came back"
}

package practice

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

func (r *run) fetch(m *fetchMsg) {
	if r.refused != nil {
		m.reply.Send(fetchReply{err: r.refused})
		return
	}
	if r.reconnect != nil {
		m.reply.Send(fetchReply{err: r.reconnectError()})
		return
	}
	if m.req.Metadata && r.metadata != nil && r.now().Sub(r.metadataAt) < r.a.opts.ConfigMaxAge {
		m.reply.Send(fetchReply{resp: r.metadata})
		return
	}
	if m.req.isSearch() && !r.knowsCapability(m) {
		return
	}
	if r.access == "" || !r.now().Before(r.expiry) && r.tokenAge() <= 0 {
		if r.now().Before(r.refreshRetryAt) && !r.refreshing {
			m.reply.Send(fetchReply{err: fmt.Errorf("%q: renewing the access token failed (%v); the next try is at %s",
				r.meta.Name, r.refreshErr, clock(r.refreshRetryAt))})
			return
		}
		r.startRefresh("access token expired")
		if r.refreshing && r.refreshAt.After(r.heldUntil(m)) {
			m.reply.Send(fetchReply{err: r.rateLimited(r.refreshAt, !r.holdUntil.Before(r.refreshAt))})
			return
		}
		r.waiting = append(r.waiting, m)
		return
	}
	r.dispatch(m)
}

func (r *run) reconnectError() error {
	return fmt.Errorf("%w: %q (%s): %v. To go on, %s",
		ErrNeedsReconnect, r.meta.Name, r.meta.ID, r.reconnect, r.a.opts.Install.Reconnect(r.meta.Name, r.meta.FHIRBaseURL))
}

func (r *run) unavailable() error {
	last := r.health.LastError
	if last == "" {
		last = "no answer"
	}
	return fmt.Errorf("%w: %q failed %d times in a row (last: %s); the next try is at %s",
		ErrCircuitOpen, r.meta.Name, r.a.opts.BreakerFailures, last, clock(r.openUntil))
}

// dispatch hands the request to a tracked goroutine with a snapshot of what it needs. The
// goroutine first waits out the rate limit (the minute's budget, a 429 hold) and any retry
// backoff.
func (r *run) dispatch(m *fetchMsg) {
	if err := m.ctx.Err(); err != nil {
		m.reply.Send(fetchReply{err: err})
		return
	}
	target, err := m.req.url(r.meta.FHIRBaseURL, r.limits())
	if err != nil {
		m.reply.Send(fetchReply{err: err})
		return
	}
	if r.circuitOpen() {
		m.reply.Send(fetchReply{err: r.unavailable()})
		return
	}
	// A caller is held for the rate limit only when it frees within MaxRetryWait (20 s by
	// default, the bound on retries) of when it called, its retries included; past that it is
	// told at once when to come back, rather than kept waiting up to a minute.
	now := r.now()
	send, admission := r.admit(latestOf(now, r.holdUntil, m.notBefore), r.heldUntil(m))
	switch admission {
	case mustReserve: // tried again when the store has answered, in a few milliseconds
		r.rateWaiting = append(r.rateWaiting, m)
		return
	case tooLate:
		m.reply.Send(fetchReply{err: r.rateLimited(send, !send.After(r.holdUntil))})
		return
	}
	done, err := r.breaker.Allow()
	if err != nil {
		r.rate.giveBack(send)
		m.reply.Send(fetchReply{err: r.unavailable()})
		return
	}
	delay := send.Sub(now)
	if r.a.opts.onDispatch != nil {
		r.a.opts.onDispatch(m.req)
	}
	job := fetchJob{client: r.fhir, url: target, token: r.access, accept: m.req.Accept, delay: delay,
		timeout: r.a.opts.RequestTimeout, max: r.a.opts.MaxBody, budget: r.a.opts.Budget, clock: r.clock,
		req: m.req, base: r.meta.FHIRBaseURL, patient: r.meta.PatientID}
	job.wait = r.waitStep(m, delay, !send.After(r.holdUntil))
	gen := r.tokenGen
	var out fetchResult
	r.go_(func(context.Context) func(*run) {
		out = recovered(func() fetchResult { return job.checked(job.run(m.ctx)) }, func(err error) fetchResult { return fetchResult{err: err} })
		return func(r *run) { r.fetched(m, gen, out, done) }
	}, func() {
		m.reply.Send(fetchReply{resp: out.resp, err: out.err})
	})
}

// rateLimited says that a call was not held for a rate limit that frees at free: the practice's
// own (it answered 429) or the budget per minute that keeps the healow processes on this
// machine within HEALOW_RATE_LIMIT together.
func (r *run) rateLimited(free time.Time, byPractice bool) error {
	wait := r.a.opts.MaxRetryWait
	if byPractice {
		return fmt.Errorf("%w: %q answered 429 and accepts requests again at %s, more than %s away, so this call was not held; try again then",
			ErrRateLimited, r.meta.Name, clock(free), wait)
	}
	who := "the healow processes on this machine together"
	if r.rate.alone {
		who = "this process (the token store takes no reservations now)"
	}
	return fmt.Errorf("%w: %q may be sent %d requests a minute (HEALOW_RATE_LIMIT), %s sent this minute's, and the next one is free at %s, more than %s away, so this call was not held; try again then",
		ErrRateLimited, r.meta.Name, r.rate.limit, who, clock(free), wait)
}

// fetched applies a finished request: breaker and health bookkeeping, then a retry, a refresh
// after the first 401, or the answer.
func (r *run) fetched(m *fetchMsg, gen int, out fetchResult, done func(error)) {
	now := r.now()
	m.failed = out.err
	var fe *FHIRError
	isFHIR := errors.As(out.err, &fe)
	callerLeft := m.ctx.Err() != nil
	// Only the practice's own failures count against it: a 4xx is the request's fault, a 429
	// is handled by holding, a caller that left says nothing about the practice, and neither
	// does an answer left out as another patient's. A refused redirect counts neither way (the
	// breaker excludes it).
	refused := errors.Is(out.err, errRedirectRefused)
	sick := out.err != nil && !callerLeft && !refused && (!isFHIR || fe.Status >= 500) && !errors.Is(out.err, errBodyTooLarge) &&
		!errors.Is(out.err, ErrNotThisPatient)
	switch {
	case sick, refused:
		done(out.err)
	default:
		done(nil)
	}
	if out.sent {
		r.health.LastRequest, r.health.LastLatency = out.start, out.latency
		r.latencies.add(out.latency)
		r.health.LastStatus = out.status
	}

	switch {
	case isFHIR && fe.Status == http.StatusUnauthorized && m.unauthorized == 0:
		m.unauthorized++
		if gen != r.tokenGen { // the token changed while this request was out
			r.fetch(m)
			return
		}
		r.expiry = time.Time{}
		r.waiting = append(r.waiting, m)
		r.startRefresh("the practice answered 401")
		return
	case isFHIR && fe.Status == http.StatusTooManyRequests:
		r.hold(fe.RetryAfter)
		if r.canRetry(m, r.holdUntil) {
			m.notBefore = r.holdUntil
			r.retry(m)
			return
		}
		out.err = fmt.Errorf("%w; %q accepts requests again at %s", out.err, r.meta.Name, clock(r.holdUntil))
	case sick && r.canRetry(m, now.Add(backoff(m.retries))):
		m.notBefore = now.Add(backoff(m.retries))
		r.retry(m)
		return
	}
	switch {
	case errors.Is(out.err, ErrNotThisPatient):
		r.health.Succeeded++ // the practice answered; what it answered is not shown
	case out.err != nil:
		r.health.Failed++
		r.noteError(out.err)
	default:
		r.health.Succeeded++
		if m.req.Metadata {
			r.metadata, r.metadataAt = out.resp, now
			r.capability, r.capErr = out.cap, out.capErr
		}
		r.learn(out.attachments)
		r.learnLink(out.next)
	}
	m.reply.Send(fetchReply{resp: out.resp, err: out.err})
}

// heldUntil is the latest a request may be sent for its caller: MaxRetryWait after the actor
// first took it, whatever retries and waits came between.
func (r *run) heldUntil(m *fetchMsg) time.Time {
	first := m.first
	if first.IsZero() {
		first = r.now()
	}
	return first.Add(r.a.opts.MaxRetryWait)
}

// canRetry reports whether m may be tried again at time at: GETs only ever reach here, and a
// retry must fit the attempt and time budgets.
func (r *run) canRetry(m *fetchMsg, at time.Time) bool {
	return m.ctx.Err() == nil && m.retries < r.a.opts.MaxRetries && at.Sub(m.first) <= r.a.opts.MaxRetryWait
}

func (r *run) retry(m *fetchMsg) {
	m.retries++
	r.health.Retries++
	r.fetch(m)
}

// hold stops this practice's requests after a 429: for Retry-After when the practice sends one,
// else until the next wall-clock minute (eCW's bucket), plus jitter so that processes sharing
// the practice do not all come back in the same instant.
func (r *run) hold(retryAfter time.Duration) {
	now := r.now()
	until := now.Truncate(time.Minute).Add(time.Minute)
	if retryAfter > 0 {
		until = now.Add(retryAfter)
	}
	until = until.Add(rand.N(time.Second))
	if until.After(r.holdUntil) {
		r.holdUntil = until
		r.log.Warn("rate limited by the practice", "until", until)
	}
}

// backoff is the wait before retry n (0-based): exponential from 250 ms, with jitter, capped.
func backoff(n int) time.Duration {
	d := min(250*time.Millisecond<<n, 5*time.Second)
	return d/2 + rand.N(d/2)
}

func clock(t time.Time) string { return t.Local().Format("15:04:05") }

// fetchJob is the snapshot a request goroutine works from.
type fetchJob struct {
	client  *http.Client
	url     string
	token   string
	accept  string
	delay   time.Duration
	timeout time.Duration
	max     int64
	budget  *Budget
	clock   actor.Clock
	wait    Step // what delay waits for, told to the caller's progress reporter

	req     Request // what was asked, to check the answer against
	base    string
	patient string
}

type fetchResult struct {
	resp    *Response
	err     error
	sent    bool // the request reached the network
	start   time.Time
	latency time.Duration
	status  int

	cap         *capability // a CapabilityStatement's search parameters, for metadata
	capErr      error
	attachments []string // Binary URLs the patient's records in the answer hold
	next        string   // the answer's next link
}

var errBodyTooLarge = errors.New("answer too large")

func (j fetchJob) run(ctx context.Context) (out fetchResult) {
	j.report(ctx)
	if err := actor.Sleep(ctx, j.clock, j.delay); err != nil {
		return fetchResult{err: err}
	}
	ctx, cancel := j.clock.WithTimeout(ctx, j.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return fetchResult{err: err}
	}
	accept := j.accept
	if accept == "" {
		accept = "application/fhir+json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+j.token)
	out.start, out.sent = j.clock.Now(), true
	defer func() { out.latency = j.clock.Now().Sub(out.start) }()
	resp, err := j.client.Do(req)
	if err != nil {
		if errors.Is(err, errRedirectRefused) {
			out.err = scrubURLError(err)
			return out
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", j.timeout)
		}
		out.err = fmt.Errorf("reaching the practice: %w", scrubURLError(err))
		return out
	}
	defer resp.Body.Close()
	out.status = resp.StatusCode
	body, held, err := j.budget.read(ctx, resp.Body, resp.ContentLength, j.max)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("the answer did not arrive in full within %s", j.timeout)
		}
		out.err = fmt.Errorf("reading the practice's answer: %w", scrubURLError(err))
		return out
	}
	if int64(len(body)) > j.max || resp.StatusCode < 200 || resp.StatusCode > 299 {
		held.release() // nothing of the body leaves here but an outcome's words
	}
	if int64(len(body)) > j.max {
		out.err = fmt.Errorf("%w: the practice's answer is larger than %d MiB; ask for less (a smaller _count, a narrower date range)", errBodyTooLarge, j.max>>20)
		return out
	}
	if err := cutShort(ctx, resp.ContentLength, len(body), j.timeout); err != nil {
		out.err = fmt.Errorf("reading the practice's answer: %w", err)
		return out
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		out.err = &FHIRError{Status: resp.StatusCode, Outcome: describeOutcome(body, j.token), RetryAfter: retryAfter(resp.Header, j.clock.Now())}
		return out
	}
	out.resp = &Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: redactToken(body, j.token)}
	out.resp.held(held)
	return out
}

// cutShort reports a body that may not be whole. When the request's deadline passes while the
// body is read, the transport sometimes hands over the bytes so far with a clean EOF (the
// server ended its reply as the connection was torn down), so a body finished after the
// deadline is never trusted, however it ended; nor is one shorter or longer than its
// Content-Length. A cut document must never pass for a complete one.
func cutShort(ctx context.Context, contentLength int64, n int, timeout time.Duration) error {
	switch err := ctx.Err(); {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("the answer did not arrive in full within %s (%d bytes came); try again", timeout, n)
	case err != nil:
		return fmt.Errorf("the answer was cut off (%d bytes came): %w", n, err)
	}
	if contentLength >= 0 && int64(n) != contentLength {
		return fmt.Errorf("the answer ended after %d of the %d bytes the practice announced; try again", n, contentLength)
	}
	return nil
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date (from now); zero when
// absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, 10*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), 10*time.Minute)
	}
	return 0
}

// errRedirectRefused marks a redirect out of the base that was not followed. It is a refusal,
// not a failure of the practice: it is not retried and the circuit breaker does not count it.
var errRedirectRefused = errors.New("refusing a redirect")

// withBasePolicy returns a client like c whose redirects never leave base: the Authorization
// header would follow them.
func withBasePolicy(c *http.Client, base string) *http.Client {
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if _, err := InsideBase(base, req.URL.String()); err != nil {
			// Only the scheme and host are named: the path and query may name the patient.
			return fmt.Errorf("%w to %s://%s: it leads outside the practice's FHIR base %s, so it was not followed and the access token was not sent there (%w). "+
				"Asking again meets the same redirect; the practice has to serve this inside its base",
				errRedirectRefused, req.URL.Scheme, req.URL.Host, base, ErrOutsideBase)
		}
		return nil
	}
	return &cc
}

// scrubURLError drops the URL from a transport error: its query may name the patient, and
// errors end up in logs.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// recovered runs f, turning a panic into onPanic's result: a request goroutine that panics must
// answer its caller, and must not take the process down with it.
func recovered[T any](f func() T, onPanic func(error) T) (out T) {
	defer func() {
		if p := recover(); p != nil {
			out = onPanic(fmt.Errorf("internal error (please report it): %v", p))
		}
	}()
	return f()
}

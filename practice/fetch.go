package practice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxRateWait is the longest a request waits for the practice's rate limiter before giving up.
const maxRateWait = 70 * time.Second

func (r *run) fetch(m *fetchMsg) {
	if r.reconnect != nil {
		m.reply <- fetchReply{err: r.reconnectError()}
		return
	}
	if m.req.Metadata && r.metadata != nil && r.now().Sub(r.metadataAt) < r.a.opts.ConfigMaxAge {
		m.reply <- fetchReply{resp: r.metadata}
		return
	}
	if r.access == "" || !r.now().Before(r.expiry) {
		r.waiting = append(r.waiting, m)
		r.startRefresh("access token expired")
		return
	}
	r.dispatch(m)
}

func (r *run) reconnectError() error {
	return fmt.Errorf("%w: %q (%s) %v. Run `healow connect --name %q --fhir-base-url %s` (or the connect_practice tool) again",
		ErrNeedsReconnect, r.meta.Name, r.meta.ID, r.reconnect, r.meta.Name, r.meta.FHIRBaseURL)
}

// dispatch hands the request to a tracked goroutine with a snapshot of what it needs.
func (r *run) dispatch(m *fetchMsg) {
	target, err := m.req.URL(r.meta.FHIRBaseURL, r.meta.PatientID)
	if err != nil {
		m.reply <- fetchReply{err: err}
		return
	}
	done, err := r.breaker.Allow()
	if err != nil {
		m.reply <- fetchReply{err: fmt.Errorf("%w: %q failed repeatedly; the next try is allowed after %s",
			ErrCircuitOpen, r.meta.Name, r.now().Add(30*time.Second).Format(time.Kitchen))}
		return
	}
	res := r.limiter.ReserveN(r.now(), 1)
	delay := res.DelayFrom(r.now())
	if delay > maxRateWait {
		res.CancelAt(r.now())
		done(nil)
		m.reply <- fetchReply{err: fmt.Errorf("%q: too many requests queued for its rate limit; try again in a minute", r.meta.Name)}
		return
	}
	job := fetchJob{client: r.fhir, url: target, token: r.access, accept: m.req.Accept, delay: delay, max: r.a.opts.MaxBody}
	gen, start := r.tokenGen, r.now()
	var resp *Response
	var ferr error
	r.go_(func(ctx context.Context) func(*run) {
		resp, ferr = job.run(m.ctx)
		return func(r *run) { r.fetched(m, gen, start, resp, ferr, done) }
	}, func() {
		m.reply <- fetchReply{resp: resp, err: ferr}
	})
}

// fetched applies a finished request: breaker and health bookkeeping, then a retry after a
// refresh on the first 401, or the answer.
func (r *run) fetched(m *fetchMsg, gen int, start time.Time, resp *Response, err error, done func(error)) {
	var fe *FHIRError
	isFHIR := errors.As(err, &fe)
	// Only the practice's own failures count against it: a 4xx is the request's fault.
	switch {
	case err == nil, isFHIR && fe.Status < 500 && fe.Status != 429:
		done(nil)
	case errors.Is(err, context.Canceled) && m.ctx.Err() != nil:
		done(nil) // the caller left
	default:
		done(err)
	}
	r.health.LastRequest, r.health.LastLatency = start, r.now().Sub(start)
	if resp != nil {
		r.health.LastStatus = resp.Status
	} else if isFHIR {
		r.health.LastStatus = fe.Status
	}
	if isFHIR && fe.Status == http.StatusUnauthorized && m.attempts == 0 {
		m.attempts++
		if gen != r.tokenGen { // the token changed while this request was out
			r.fetch(m)
			return
		}
		r.expiry = time.Time{}
		r.waiting = append(r.waiting, m)
		r.startRefresh("the practice answered 401")
		return
	}
	if err != nil {
		r.health.Failed++
		r.noteError(err)
	} else {
		r.health.Succeeded++
		if m.req.Metadata {
			r.metadata, r.metadataAt = resp, r.now()
		}
	}
	m.reply <- fetchReply{resp: resp, err: err}
}

// fetchJob is the snapshot a request goroutine works from.
type fetchJob struct {
	client *http.Client
	url    string
	token  string
	accept string
	delay  time.Duration
	max    int64
}

func (j fetchJob) run(ctx context.Context) (*Response, error) {
	if j.delay > 0 {
		t := time.NewTimer(j.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return nil, err
	}
	accept := j.accept
	if accept == "" {
		accept = "application/fhir+json"
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Authorization", "Bearer "+j.token)
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the practice: %w", scrubURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, j.max+1))
	if err != nil {
		return nil, fmt.Errorf("reading the practice's answer: %w", err)
	}
	if int64(len(body)) > j.max {
		return nil, fmt.Errorf("the practice's answer is larger than %d MiB; ask for less (a smaller _count, a narrower date range)", j.max>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &FHIRError{Status: resp.StatusCode, Outcome: describeOutcome(body)}
	}
	return &Response{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}

// withBasePolicy returns a client like c whose redirects never leave base: the Authorization
// header would follow them.
func withBasePolicy(c *http.Client, base string) *http.Client {
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if _, err := InsideBase(base, req.URL.String()); err != nil {
			return fmt.Errorf("refusing a redirect: %w", err)
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

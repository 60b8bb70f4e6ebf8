package practice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// run is the state of one Serve call. Only the Serve goroutine touches it, so it needs no lock;
// the work it starts gets snapshots and comes back through jobs.
type run struct {
	a     *Actor
	ctx   context.Context
	log   *slog.Logger
	clock actor.Clock
	jobs  *actor.Jobs[*run] // work done off the loop, applied in it

	meta      vault.Practice
	cfg       *smart.Config
	fhir      *http.Client
	access    string
	expiry    time.Time
	obtained  time.Time // when the access token was issued, to size the refresh margin
	tokenGen  int       // bumped whenever access changes, so a late 401 is told from a stale one
	reconnect error     // set when only a new authorization helps
	refused   error     // set when the policy forbids the practice's hosts; only the user can change that
	tokenHost string    // the token endpoint's host, from the stored SMART configuration
	waiting   []*fetchMsg
	handling  request     // the message being handled, answered by stop if handling it panics
	again     []*fetchMsg // requests being tried again after what they waited for, answered by stop too
	timer     actor.Timer

	refreshing     bool
	refreshAt      time.Time // when the refresh under way may send its token request (rate limits)
	refreshErr     error     // the last refresh's failure, until one succeeds
	refreshRetryAt time.Time // no refresh for callers before this after a failure
	refreshFails   int
	unsavedRefresh string // a rotated refresh token the keychain refused; never logged

	metadata    *Response // the CapabilityStatement, kept as long as the SMART configuration
	metadataAt  time.Time
	capability  *capability // what metadata declares, which limits searches to the patient
	capErr      error       // why metadata could not be read as a CapabilityStatement
	capWaiting  []*fetchMsg // searches waiting for the CapabilityStatement
	capReading  bool
	attachments map[string]bool // Binary URLs the patient's records seen so far hold
	links       map[string]bool // next links of answers seen so far

	rate          *window     // the practice's requests per minute, shared with other processes
	reserving     bool        // a reservation of the store is under way
	rateWaiting   []*fetchMsg // requests waiting for it
	refreshParked bool        // the refresh under way waits for it too
	holdUntil     time.Time   // after a 429: eCW refuses everything until the minute turns
	breaker       *gobreaker.TwoStepCircuitBreaker[struct{}]
	openUntil     time.Time // when an open circuit lets a probe through
	latencies     latencyRing
	health        Health

	requestableFrom   []byte   // the SMART configuration requestableScopes were chosen from
	requestableScopes []string // what connecting again would ask for

	published State // the state last published to Options.Events
}

// Serve runs the actor until ctx ends. It loads the practice from the store and the keychain
// first; a practice that no longer exists stops the actor for good.
func (a *Actor) Serve(ctx context.Context) (err error) {
	o := a.opts
	// The run's work ends with it, a panic included, so none waits on a loop that is gone.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &run{
		a:     a,
		ctx:   ctx,
		log:   a.log,
		clock: o.Clock,
		jobs:  actor.NewJobs[*run](ctx),
		rate:  a.rate,
	}
	// The breaker counts failures and runs the half-open probe; how long it stays open is kept
	// here, on the actor's clock (gobreaker reads the wall clock): it may half-open at once, and
	// the actor asks it only once openUntil has passed.
	r.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        a.id,
		Timeout:     time.Nanosecond,
		ReadyToTrip: func(c gobreaker.Counts) bool { return int(c.ConsecutiveFailures) >= o.BreakerFailures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errRedirectRefused) },
		// Called from Allow and done, which run only in this loop.
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				r.openUntil = r.now().Add(o.BreakerCooldown)
			}
			r.log.Warn("circuit breaker", "from", from.String(), "to", to.String())
		},
	})
	r.health.Restarts = a.restarts
	a.restarts++
	// A practice removed from the store is gone for good: its callers hear so at once. After any
	// other stop the supervisor restarts the loop, and new callers wait for it as for a busy actor
	// (those the stopped run owed an answer were answered by stop).
	defer func() {
		if errors.Is(err, suture.ErrDoNotRestart) {
			a.box.Close(fmt.Errorf("%w: %w", ErrStopped, err))
		}
	}()
	defer r.stop()

	if err := r.load(ctx); err != nil {
		if errors.Is(err, vault.ErrNotFound) {
			return fmt.Errorf("%s: %w: %w", a, err, suture.ErrDoNotRestart)
		}
		return err
	}
	r.schedule()
	a.box.Up()
	r.publish()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-a.box.Receive():
			r.handling = m
			r.handle(m)
			r.handling = nil
		case apply := <-r.jobs.Results():
			apply(r)
		case <-r.timerC():
			r.timer = nil
			r.startRefresh("access token about to expire")
		}
		r.publish()
	}
}

// stop answers everything still waiting, so no caller is left hanging by a restart, a panic
// included.
func (r *run) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
	failed := fmt.Errorf("%w: the practice's actor stopped or failed and restarts; try again", ErrStopped)
	if m, ok := r.handling.(*fetchMsg); ok {
		m.reply.Send(fetchReply{err: failed})
	}
	for _, m := range slices.Concat(r.waiting, r.capWaiting, r.rateWaiting, r.again) {
		m.reply.Send(fetchReply{err: failed})
	}
	r.waiting, r.capWaiting, r.rateWaiting, r.again = nil, nil, nil, nil
}

// fetchAgain tries again requests that waited for something (a reservation, a refresh, the
// CapabilityStatement), each as if it had just arrived: if one panics, stop answers it and the
// others still to be tried.
func (r *run) fetchAgain(ms []*fetchMsg) {
	outer := r.handling // not deferred: after a panic, stop must see the one that panicked
	r.again = append(r.again, ms...)
	for len(r.again) > 0 {
		m := r.again[0]
		r.again = r.again[1:]
		r.handling = m
		r.fetch(m)
	}
	r.handling = outer
}

func (r *run) handle(m request) {
	switch m := m.(type) {
	case *fetchMsg:
		if m.first.IsZero() {
			m.first = r.now()
		}
		r.fetch(m)
	case *infoMsg:
		m.reply.Send(Info{
			ID: r.meta.ID, Name: r.meta.Name, FHIRBaseURL: r.meta.FHIRBaseURL,
			PatientID: r.meta.PatientID, Scopes: r.meta.Scopes, TokenExpiry: r.expiry,
			State: r.currentState(), Requestable: r.requestable(),
		})
	case *healthMsg:
		m.reply.Send(r.snapshot())
	case reloadMsg:
		r.go_(func(ctx context.Context) func(*run) {
			meta, access, err := loadPractice(ctx, r.a.opts, r.a.id)
			return func(r *run) { r.adopt(meta, access, err); m.reply.Send(struct{}{}) }
		}, func() { m.reply.Send(struct{}{}) })
	}
}

func (r *run) now() time.Time { return r.clock.Now() }

// requestable is what connecting again would ask for: the scopes chosen from the practice's
// SMART configuration, the stale cached copy included (its scopes rarely change).
func (r *run) requestable() []string {
	raw := r.meta.SMARTConfig
	if r.cfg != nil {
		raw = r.cfg.Raw
	}
	if len(raw) == 0 {
		return nil
	}
	if !bytes.Equal(raw, r.requestableFrom) { // choosing them takes a fraction of a millisecond
		cfg, err := smart.ParseConfig(raw)
		if err != nil {
			return nil
		}
		r.requestableFrom, r.requestableScopes = raw, smart.Scopes(cfg)
	}
	return r.requestableScopes
}

func (r *run) timerC() <-chan time.Time {
	if r.timer == nil {
		return nil
	}
	return r.timer.C()
}

// schedule arms the proactive refresh for RefreshBefore ahead of expiry, or half-way through a
// token's life when it is shorter than twice that: a fixed margin would refresh a short-lived
// token again the moment it arrives.
func (r *run) schedule() {
	if r.reconnect != nil || r.refused != nil {
		r.armTimer(-1)
		return
	}
	margin := r.a.opts.RefreshBefore
	if !r.obtained.IsZero() {
		margin = min(margin, r.expiry.Sub(r.obtained)/2)
	}
	r.armTimer(max(r.expiry.Add(-margin).Sub(r.now()), r.tokenAge(), 0))
}

// tokenAge is how long until the access token is minRefreshBackoff old, if it is younger: a
// token that arrives already expired (a clock that disagrees with the server's, a bogus
// expires_in) is still used rather than refreshed again in a loop.
func (r *run) tokenAge() time.Duration {
	if r.obtained.IsZero() {
		return 0
	}
	return minRefreshBackoff - r.now().Sub(r.obtained)
}

// armTimer sets the refresh timer to fire after d, or stops it when d is negative.
func (r *run) armTimer(d time.Duration) {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if d >= 0 {
		r.timer = r.clock.NewTimer(d)
	}
}

// go_ runs work off the loop; its result is applied in the loop. When the run has ended first,
// orphan (if not nil) is called instead, so that work owing a caller an answer still gives one.
func (r *run) go_(work func(ctx context.Context) func(*run), orphan ...func()) {
	var o func()
	if len(orphan) > 0 {
		o = orphan[0]
	}
	r.jobs.Go(work, o)
}

// circuitOpen reports whether the circuit refuses calls now, on the actor's clock.
func (r *run) circuitOpen() bool { return r.now().Before(r.openUntil) }

func (r *run) currentState() State {
	switch {
	case r.refused != nil:
		return StateHostNotAllowed
	case r.reconnect != nil:
		return StateNeedsReconnect
	case r.circuitOpen():
		return StateCircuitOpen
	case r.now().Before(r.holdUntil), r.rate.exhausted(r.now()):
		return StateRateLimited
	case r.refreshing:
		return StateRefreshing
	case r.refreshErr != nil:
		return StateDegraded
	case r.access == "":
		return StateStarting
	}
	return StateReady
}

func (r *run) snapshot() Health {
	h := r.health
	h.InFlight = r.jobs.InFlight()
	if r.reserving {
		h.InFlight-- // a reservation of the store is no request to the practice
	}
	h.ID, h.Name, h.FHIRBaseURL = r.meta.ID, r.meta.Name, r.meta.FHIRBaseURL
	h.ConnectedVia, h.TokenHost = r.meta.ConnectedVia, r.tokenHost
	h.State = r.currentState()
	h.TokenExpiry = r.expiry
	now := r.now()
	if !r.expiry.IsZero() {
		h.TokenLeft = max(r.expiry.Sub(now), 0)
	}
	h.LastRefresh = r.meta.LastRefresh
	if h.RefreshTokenExpiry = RefreshExpiry(r.meta); !h.RefreshTokenExpiry.IsZero() {
		h.RefreshTokenLeft = max(h.RefreshTokenExpiry.Sub(now), 0)
	}
	h.RateLimit, h.RateLeft, h.RateUnshared = r.rate.limit, r.rate.left(now), r.rate.alone
	switch {
	case now.Before(r.holdUntil):
		h.RateLimitedUntil, h.RateLimitedBy = r.holdUntil, LimitedByPractice
	case r.rate.exhausted(now):
		h.RateLimitedUntil, h.RateLimitedBy = nextMinute(now), LimitedByBudget
	}
	h.Breaker = r.breaker.State().String()
	if r.circuitOpen() {
		h.Breaker = gobreaker.StateOpen.String()
	}
	c := r.breaker.Counts()
	h.BreakerFailures = int(c.ConsecutiveFailures)
	if h.Breaker == "open" {
		h.CircuitOpenUntil = r.openUntil
	}
	h.LatencyP50, h.LatencyP95 = r.latencies.percentiles()
	return h
}

func (r *run) noteError(err error) {
	r.health.LastError = err.Error()
	r.health.LastErrorAt = r.now()
}

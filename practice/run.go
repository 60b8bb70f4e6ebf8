package practice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/thejerf/suture/v4"
	"golang.org/x/time/rate"

	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// run is the state of one Serve call. Only the Serve goroutine touches it, so it needs no lock;
// the goroutines it starts get snapshots and answer with messages on results.
type run struct {
	a       *Actor
	ctx     context.Context
	log     *slog.Logger
	results chan func(*run) // work finished by a tracked goroutine, applied in the loop

	meta       vault.Practice
	cfg        *smart.Config
	fhir       *http.Client
	access     string
	expiry     time.Time
	obtained   time.Time // when the access token was issued, to size the refresh margin
	tokenGen   int       // bumped whenever access changes, so a late 401 is told from a stale one
	state      State
	reconnect  error
	refreshing bool
	waiting    []*fetchMsg
	timer      *time.Timer

	metadata   *Response // the CapabilityStatement, kept as long as the SMART configuration
	metadataAt time.Time

	limiter *rate.Limiter
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	health  Health
}

// Serve runs the actor until ctx ends. It loads the practice from the store and the keychain
// first; a practice that no longer exists stops the actor for good.
func (a *Actor) Serve(ctx context.Context) error {
	r := &run{
		a:       a,
		ctx:     ctx,
		log:     a.log,
		results: make(chan func(*run)),
		state:   StateStarting,
		limiter: rate.NewLimiter(rate.Limit(float64(a.opts.RequestsPerMinute)/60), a.opts.RequestsPerMinute),
		breaker: gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:    a.id,
			Timeout: 30 * time.Second,
			ReadyToTrip: func(c gobreaker.Counts) bool {
				return c.ConsecutiveFailures >= 5
			},
		}),
	}
	r.health.Restarts = a.restarts
	a.restarts++
	defer r.stop()

	if err := r.load(ctx); err != nil {
		if errors.Is(err, vault.ErrNotFound) {
			return fmt.Errorf("%s: %w: %w", a, err, suture.ErrDoNotRestart)
		}
		return err
	}
	r.schedule()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-a.inbox:
			r.handle(m)
		case apply := <-r.results:
			apply(r)
		case <-r.timerC():
			r.timer = nil
			r.startRefresh("access token about to expire")
		}
	}
}

// stop answers everything still waiting, so no caller is left hanging by a restart.
func (r *run) stop() {
	if r.timer != nil {
		r.timer.Stop()
	}
	for _, m := range r.waiting {
		m.reply <- fetchReply{err: fmt.Errorf("%w: the practice's actor restarted; try again", ErrStopped)}
	}
	r.waiting = nil
}

func (r *run) handle(m request) {
	switch m := m.(type) {
	case *fetchMsg:
		r.fetch(m)
	case *infoMsg:
		m.reply <- Info{
			ID: r.meta.ID, Name: r.meta.Name, FHIRBaseURL: r.meta.FHIRBaseURL,
			PatientID: r.meta.PatientID, Scopes: r.meta.Scopes, TokenExpiry: r.expiry,
			State: r.currentState(),
		}
	case *healthMsg:
		m.reply <- r.snapshot()
	case reloadMsg:
		r.go_(func(ctx context.Context) func(*run) {
			meta, access, err := loadPractice(ctx, r.a.opts, r.a.id)
			return func(r *run) { r.adopt(meta, access, err) }
		})
	}
}

func (r *run) now() time.Time { return r.a.opts.Now() }

func (r *run) timerC() <-chan time.Time {
	if r.timer == nil {
		return nil
	}
	return r.timer.C
}

// schedule arms the proactive refresh for RefreshBefore ahead of expiry, or half-way through a
// token's life when it is shorter than twice that: a fixed margin would refresh a short-lived
// token again the moment it arrives.
func (r *run) schedule() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.reconnect != nil {
		return
	}
	margin := r.a.opts.RefreshBefore
	if !r.obtained.IsZero() {
		margin = min(margin, r.expiry.Sub(r.obtained)/2)
	}
	d := r.expiry.Add(-margin).Sub(r.now())
	r.timer = time.NewTimer(max(d, 0))
}

func (r *run) retryLater() {
	if r.timer != nil {
		r.timer.Stop()
	}
	r.timer = time.NewTimer(retryRefreshAfter)
}

// go_ runs work in a goroutine tied to this run; its result is applied in the loop. When the run
// has ended first, orphan (if not nil) is called instead, so that work owing a caller an answer
// still gives one.
func (r *run) go_(work func(ctx context.Context) func(*run), orphan ...func()) {
	r.health.InFlight++
	go func() {
		apply := work(r.ctx)
		select {
		case r.results <- func(r *run) { r.health.InFlight--; apply(r) }:
		case <-r.ctx.Done():
			for _, f := range orphan {
				f()
			}
		}
	}()
}

func (r *run) currentState() State {
	switch {
	case r.reconnect != nil:
		return StateNeedsReconnect
	case r.breaker.State() == gobreaker.StateOpen:
		return StateCircuitOpen
	case r.refreshing:
		return StateRefreshing
	}
	return r.state
}

func (r *run) snapshot() Health {
	h := r.health
	h.ID, h.Name, h.FHIRBaseURL = r.meta.ID, r.meta.Name, r.meta.FHIRBaseURL
	h.State = r.currentState()
	h.TokenExpiry = r.expiry
	if !r.expiry.IsZero() {
		h.TokenLeft = max(r.expiry.Sub(r.now()), 0)
	}
	h.LastRefresh = r.meta.LastRefresh
	h.LimiterLeft = r.limiter.TokensAt(r.now())
	h.Breaker = r.breaker.State().String()
	return h
}

func (r *run) noteError(err error) {
	r.health.LastError = err.Error()
	r.health.LastErrorAt = r.now()
}

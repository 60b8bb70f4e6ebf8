package practice

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Refresh failures that may pass are retried after this, doubling up to maxRefreshBackoff.
const (
	minRefreshBackoff = 5 * time.Second
	maxRefreshBackoff = 5 * time.Minute
)

// startRefresh begins one refresh unless one is already under way: every caller that meets an
// expired token waits for the same one.
func (r *run) startRefresh(reason string) {
	if r.refreshing || r.reconnect != nil || r.refused != nil {
		return
	}
	r.refreshing = true
	r.log.Info("refreshing access token", "reason", reason)
	r.sendRefresh()
}

// sendRefresh starts the refresh under way once the rate limit lets its token request go (eCW
// counts /token against the same budget), however long that takes: callers are told when it
// frees (refreshAt). It waits for a reservation of the store when it must.
func (r *run) sendRefresh() {
	now := r.now()
	send, admission := r.admit(latestOf(now, r.holdUntil), time.Time{})
	r.refreshAt = send
	if admission == mustReserve {
		r.refreshParked = true
		return
	}
	delay := send.Sub(now)
	job := refreshJob{
		opts: r.a.opts, id: r.a.id, base: r.meta.FHIRBaseURL, cfg: r.cfg,
		current: r.access, unsaved: r.unsavedRefresh, delay: delay,
	}
	r.go_(func(ctx context.Context) func(*run) {
		out := recovered(func() refreshResult { return job.run(ctx) }, func(err error) refreshResult { return refreshResult{err: err} })
		return func(r *run) { r.refreshed(out) }
	})
}

func (r *run) refreshed(out refreshResult) {
	r.refreshing = false
	if out.cfg != nil {
		r.cfg = out.cfg
	}
	if out.clearCfg {
		r.cfg = nil
	}
	if out.unsaved != "" || out.saved {
		r.unsavedRefresh = out.unsaved
	}
	waiting := r.waiting
	r.waiting = nil
	if out.err != nil {
		if r.refusedBy(out.err, waiting) {
			return
		}
		r.refreshErr = out.err
		r.noteError(out.err)
		if errors.Is(out.err, ErrNeedsReconnect) || errors.Is(out.err, smart.ErrInvalidGrant) || errors.Is(out.err, smart.ErrInvalidClient) {
			r.reconnect = out.err
			r.log.Warn("practice needs to be connected again", "err", out.err)
			r.schedule()
			for _, m := range waiting {
				m.reply.Send(fetchReply{err: r.reconnectError()})
			}
			return
		}
		if errors.Is(out.err, smart.ErrRateLimited) {
			r.hold(0)
		}
		r.refreshFails++
		wait := min(minRefreshBackoff<<(r.refreshFails-1), maxRefreshBackoff)
		r.refreshRetryAt = r.now().Add(wait)
		r.armTimer(wait)
		r.log.Warn("refresh failed; will try again", "err", out.err, "retry_in", wait)
		for _, m := range waiting {
			m.reply.Send(fetchReply{err: fmt.Errorf("%q: could not renew the access token: %w", r.meta.Name, out.err)})
		}
		return
	}
	r.refreshErr, r.refreshFails, r.refreshRetryAt = nil, 0, time.Time{}
	r.access, r.expiry, r.obtained = out.access, out.expiry, out.at
	r.tokenGen++
	if out.adopted {
		r.log.Info("took the access token another process refreshed", "expires_in", out.expiry.Sub(r.now()).Round(time.Second))
	} else {
		r.health.RefreshCount++
		r.log.Info("access token refreshed", "expires_in", out.expiry.Sub(r.now()).Round(time.Second))
	}
	if out.keychainErr != nil {
		r.noteError(out.keychainErr)
	}
	if out.scopes != nil {
		r.meta.Scopes = out.scopes
	}
	r.meta.TokenExpiry, r.meta.LastRefresh = out.expiry, out.at
	if !out.refreshIssued.IsZero() {
		r.meta.RefreshIssuedAt = out.refreshIssued
	}
	r.schedule()
	r.publishRefreshed()
	r.fetchAgain(waiting)
}

// refreshJob is the snapshot a refresh goroutine works from.
type refreshJob struct {
	opts    Options
	id      string
	base    string
	cfg     *smart.Config
	current string // the access token the actor holds now
	unsaved string // a refresh token the keychain refused earlier
	delay   time.Duration
}

type refreshResult struct {
	access        string
	expiry        time.Time
	scopes        []string
	at            time.Time
	adopted       bool          // another process had refreshed already
	refreshIssued time.Time     // when the refresh token now stored was issued; zero: unchanged
	cfg           *smart.Config // a freshly discovered configuration, or nil
	clearCfg      bool          // the configuration looks stale: discover it again next time
	unsaved       string        // the new refresh token, when the keychain refused it
	saved         bool          // the refresh token in hand is now in the keychain
	keychainErr   error         // the keychain refused a token; the refresh itself worked
	err           error
}

func (j refreshJob) run(ctx context.Context) refreshResult {
	if err := actor.Sleep(ctx, j.opts.Clock, j.delay); err != nil {
		return refreshResult{err: err}
	}
	// Only one process spends the refresh token; whoever waited finds the work done. A holder
	// keeps its lease for as long as its work may take, and a lease left by a holder that died
	// lapses after LeaseTTL, so waiting a little longer than the longer of the two always ends.
	budget := j.budget()
	wait, cancel := j.opts.Clock.WithTimeout(ctx, max(j.opts.LeaseTTL, budget)*3/2)
	defer cancel()
	release, abandoned, err := j.opts.Store.AcquireRefreshLease(wait, j.id, j.opts.Holder, j.opts.LeaseTTL)
	if err != nil {
		return refreshResult{err: err}
	}
	// The work is bounded by the request timeout, not by the lease: cancelling a token request
	// the practice has already answered would lose the refresh token it rotated. The lease is
	// renewed while the work runs instead, so no other process starts its own meanwhile.
	work, cancelWork := j.opts.Clock.WithTimeout(ctx, budget)
	defer cancelWork()
	stopRenewing := j.keepLease(work)
	out := j.leased(work)
	stopRenewing()
	if errors.Is(out.err, errCrashed) {
		return out // a crash releases nothing
	}
	release()
	if abandoned && errors.Is(out.err, smart.ErrInvalidGrant) {
		out.err = fmt.Errorf("%w: a healow process stopped while renewing this practice's access token, after the practice had "+
			"already used up the refresh token it presented; that grant cannot be recovered (%w)", ErrNeedsReconnect, out.err)
	}
	return out
}

// budget bounds a refresh's work: discovering the SMART configuration and the token request,
// one request timeout each.
func (j refreshJob) budget() time.Duration { return 2 * j.opts.RequestTimeout }

// keepLease renews the refresh lease every third of LeaseTTL until ctx ends or stop is called;
// stop returns once renewing has stopped, so that a release after it is the last word.
func (j refreshJob) keepLease(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := j.opts.Clock.NewTicker(j.opts.LeaseTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C():
			}
			if err := j.opts.Store.RenewRefreshLease(ctx, j.id, j.opts.Holder, j.opts.LeaseTTL); err != nil {
				if ctx.Err() == nil {
					j.opts.Logger.Warn("could not renew the refresh lease; another process may refresh too", "practice", j.id, "err", err)
				}
				continue
			}
			if j.opts.onLeaseRenewed != nil {
				j.opts.onLeaseRenewed()
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (j refreshJob) leased(ctx context.Context) refreshResult {
	if j.crashed("leased") {
		return refreshResult{err: errCrashed}
	}
	if out, ok := j.refreshedElsewhere(ctx); ok {
		return out
	}
	return j.refresh(ctx)
}

// errCrashed ends a refresh where a test's crash hook says the process died.
var errCrashed = errors.New("simulated crash")

// crashed lets a test stop a refresh at a named step, as a killed process would: nothing after
// it happens, the lease included.
func (j refreshJob) crashed(step string) bool {
	return j.opts.crashAt != nil && j.opts.crashAt(step)
}

// refreshedElsewhere adopts the access token another process stored while this one waited.
func (j refreshJob) refreshedElsewhere(ctx context.Context) (refreshResult, bool) {
	meta, access, err := loadPractice(ctx, j.opts, j.id)
	if err != nil || access == "" || access == j.current || !j.opts.Clock.Now().Before(meta.TokenExpiry) {
		return refreshResult{}, false
	}
	return refreshResult{access: access, expiry: meta.TokenExpiry, scopes: meta.Scopes, at: meta.LastRefresh,
		refreshIssued: meta.RefreshIssuedAt, adopted: true}, true
}

func (j refreshJob) refresh(ctx context.Context) (out refreshResult) {
	cfg := j.cfg
	if cfg == nil {
		var err error
		if cfg, err = smart.Discover(ctx, j.opts.OAuth.HTTP, j.base); err != nil {
			return refreshResult{err: fmt.Errorf("fetching the practice's SMART configuration: %w", err)}
		}
		out.cfg = cfg
		if err := j.opts.Store.SaveSMARTConfig(ctx, j.id, cfg.Raw, j.opts.Clock.Now()); err != nil {
			j.opts.Logger.Warn("could not cache the SMART configuration", "practice", j.id, "err", err)
		}
	}
	old := j.unsaved
	if old == "" {
		var err error
		old, err = j.opts.Secrets.Get(j.id, vault.RefreshToken)
		if errors.Is(err, vault.ErrSecretNotFound) {
			out.err = fmt.Errorf("%w: no refresh token is stored (offline_access was not granted)", ErrNeedsReconnect)
			return out
		}
		if err != nil {
			out.err = err
			return out
		}
	}
	tok, err := j.opts.OAuth.Refresh(ctx, cfg, old)
	if err != nil {
		var ue *url.Error
		out.clearCfg = errors.As(err, &ue) // the endpoint may have moved
		out.err = err
		return out
	}
	if j.crashed("exchanged") {
		return refreshResult{err: errCrashed}
	}
	// eCW refresh tokens may be single-use: the old one died when the server answered, so the new
	// one is stored before anything else happens. If the keychain refuses it, the actor keeps it
	// in memory for the next refresh rather than losing the grant.
	newRefresh := tok.RefreshToken
	if newRefresh == "" {
		newRefresh = old // the server kept the old one alive
	}
	if err := j.opts.Secrets.Set(j.id, vault.RefreshToken, newRefresh); err != nil {
		out.unsaved = newRefresh
		out.keychainErr = fmt.Errorf("the new refresh token could not be stored, so it is kept in memory until the keychain takes it: %w", err)
		j.opts.Logger.Error("keychain refused the new refresh token; keeping it in memory", "practice", j.id, "err", err)
	} else {
		out.saved = true
	}
	if j.crashed("stored-refresh") {
		return refreshResult{err: errCrashed}
	}
	if err := j.opts.Secrets.Set(j.id, vault.AccessToken, tok.AccessToken); err != nil {
		out.keychainErr = errors.Join(out.keychainErr, fmt.Errorf("the access token could not be stored: %w", err))
	}
	if j.crashed("stored-access") {
		return refreshResult{err: errCrashed}
	}
	now := j.opts.Clock.Now()
	record := j.opts.Store.RecordRefresh
	if tok.RefreshToken != "" { // rotated: eCW's 90 days start again for the new one
		record, out.refreshIssued = j.opts.Store.RecordRotatedRefresh, now
	}
	if err := record(ctx, j.id, tok.Expiry, tok.Scopes, now); err != nil {
		j.opts.Logger.Warn("could not record the refresh", "practice", j.id, "err", err)
	}
	if j.crashed("recorded") {
		return refreshResult{err: errCrashed}
	}
	out.access, out.expiry, out.scopes, out.at = tok.AccessToken, tok.Expiry, tok.Scopes, now
	return out
}

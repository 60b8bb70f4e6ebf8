package practice

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// startRefresh begins one refresh unless one is already under way: every caller that meets an
// expired token waits for the same one.
func (r *run) startRefresh(reason string) {
	if r.refreshing || r.reconnect != nil {
		return
	}
	r.refreshing = true
	r.log.Info("refreshing access token", "reason", reason)
	job := refreshJob{opts: r.a.opts, id: r.a.id, base: r.meta.FHIRBaseURL, cfg: r.cfg}
	res := r.limiter.ReserveN(r.now(), 1) // eCW counts /token against the same 250 a minute
	job.delay = res.DelayFrom(r.now())
	r.go_(func(ctx context.Context) func(*run) {
		out := job.run(ctx)
		return func(r *run) { r.refreshed(out) }
	})
}

func (r *run) refreshed(out refreshResult) {
	r.refreshing = false
	if out.cfg != nil {
		r.cfg = out.cfg
	}
	waiting := r.waiting
	r.waiting = nil
	if out.err != nil {
		r.noteError(out.err)
		if errors.Is(out.err, ErrNeedsReconnect) || errors.Is(out.err, smart.ErrInvalidGrant) || errors.Is(out.err, smart.ErrInvalidClient) {
			r.reconnect = out.err
			r.log.Warn("practice needs to be connected again", "err", out.err)
			r.schedule()
			for _, m := range waiting {
				m.reply <- fetchReply{err: r.reconnectError()}
			}
			return
		}
		r.log.Warn("refresh failed; will try again", "err", out.err, "retry_in", retryRefreshAfter)
		r.state = StateDegraded
		r.retryLater()
		for _, m := range waiting {
			m.reply <- fetchReply{err: fmt.Errorf("%q: could not renew the access token: %w", r.meta.Name, out.err)}
		}
		return
	}
	r.access, r.expiry, r.obtained = out.access, out.expiry, out.at
	r.tokenGen++
	r.state = StateReady
	r.health.RefreshCount++
	if len(out.scopes) > 0 {
		r.meta.Scopes = out.scopes
	}
	r.meta.TokenExpiry, r.meta.LastRefresh = out.expiry, out.at
	r.log.Info("access token refreshed", "expires_in", out.expiry.Sub(r.now()).Round(time.Second))
	r.schedule()
	for _, m := range waiting {
		r.dispatch(m)
	}
}

// refreshJob is the snapshot a refresh goroutine works from.
type refreshJob struct {
	opts  Options
	id    string
	base  string
	cfg   *smart.Config
	delay time.Duration
}

type refreshResult struct {
	access string
	expiry time.Time
	scopes []string
	at     time.Time
	cfg    *smart.Config // a freshly discovered configuration, or nil
	err    error
}

func (j refreshJob) run(ctx context.Context) (out refreshResult) {
	if j.delay > 0 {
		select {
		case <-time.After(j.delay):
		case <-ctx.Done():
			return refreshResult{err: ctx.Err()}
		}
	}
	cfg := j.cfg
	if cfg == nil {
		var err error
		if cfg, err = smart.Discover(ctx, j.opts.OAuth.HTTP, j.base); err != nil {
			return refreshResult{err: fmt.Errorf("fetching the practice's SMART configuration: %w", err)}
		}
		out.cfg = cfg
		if err := j.opts.Store.SaveSMARTConfig(ctx, j.id, cfg.Raw, j.opts.Now()); err != nil {
			return refreshResult{cfg: cfg, err: err}
		}
	}
	old, err := j.opts.Secrets.Get(j.id, vault.RefreshToken)
	if errors.Is(err, vault.ErrSecretNotFound) {
		out.err = fmt.Errorf("%w: no refresh token is stored (offline_access was not granted)", ErrNeedsReconnect)
		return out
	}
	if err != nil {
		out.err = err
		return out
	}
	tok, err := j.opts.OAuth.Refresh(ctx, cfg, old)
	if err != nil {
		if errors.Is(err, smart.ErrInvalidGrant) {
			// Another process may have spent the token and stored its successor.
			if adopted, ok := j.adoptOthers(ctx, old); ok {
				adopted.cfg = out.cfg
				return adopted
			}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			out.cfg = nil // the endpoint may have moved: discover again next time
		}
		out.err = err
		return out
	}
	// eCW refresh tokens may be single-use: the old one died when the server answered, so the new
	// one is stored before anything else happens.
	if tok.RefreshToken != "" {
		if err := j.opts.Secrets.Set(j.id, vault.RefreshToken, tok.RefreshToken); err != nil {
			out.err = fmt.Errorf("storing the new refresh token: %w", err)
			return out
		}
	}
	if err := j.opts.Secrets.Set(j.id, vault.AccessToken, tok.AccessToken); err != nil {
		j.opts.Logger.Warn("could not store the access token; it stays in memory", "practice", j.id, "err", err)
	}
	now := j.opts.Now()
	if err := j.opts.Store.RecordRefresh(ctx, j.id, tok.Expiry, tok.Scopes, now); err != nil {
		j.opts.Logger.Warn("could not record the refresh", "practice", j.id, "err", err)
	}
	out.access, out.expiry, out.scopes, out.at = tok.AccessToken, tok.Expiry, tok.Scopes, now
	return out
}

// adoptOthers checks whether the refresh token was rotated by someone else since it was read;
// if so, their access token is the one to use.
func (j refreshJob) adoptOthers(ctx context.Context, spent string) (refreshResult, bool) {
	current, err := j.opts.Secrets.Get(j.id, vault.RefreshToken)
	if err != nil || current == spent {
		return refreshResult{}, false
	}
	meta, access, err := loadPractice(ctx, j.opts, j.id)
	if err != nil || access == "" || !j.opts.Now().Before(meta.TokenExpiry) {
		return refreshResult{}, false
	}
	return refreshResult{access: access, expiry: meta.TokenExpiry, scopes: meta.Scopes, at: meta.LastRefresh}, true
}

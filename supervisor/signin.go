package supervisor

import (
	"context"
	"errors"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// caught is told of each practice a sign-in's listener connected: the user is warned where it
// points, and the registry serves it now rather than at its next poll.
func (r *Registry) caught(ctx context.Context, p vault.Practice) {
	r.warnConnected(p)
	if err := r.Sync(ctx); err != nil {
		r.log.Debug("serving a practice just connected waits for the next poll", "practice", p.ID, "err", err)
	}
}

// AwaitConnect waits, until ctx ends, for the sign-in of state to end: it returns the practice
// it connected, or why it did not. done is false when ctx ended first.
func (r *Registry) AwaitConnect(ctx context.Context, state string) (info practice.Info, done bool, err error) {
	if r.opts.Connector == nil {
		return practice.Info{}, false, errNotConfigured
	}
	w, err := r.opts.Connector.States.Wait(ctx, state)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return practice.Info{}, false, nil
	case err != nil:
		return practice.Info{}, false, err
	case w.Ended.Err != nil:
		return practice.Info{}, true, w.Ended.Err
	}
	info, err = r.connected(ctx, w.Ended.PracticeID)
	return info, true, err
}

// connected serves the practice of id now and describes it.
func (r *Registry) connected(ctx context.Context, id string) (practice.Info, error) {
	if err := r.Sync(ctx); err != nil {
		return practice.Info{}, err
	}
	a, err := r.Lookup(ctx, id)
	if err != nil {
		return practice.Info{}, err
	}
	return a.Info(ctx)
}

// SignIn tells at once which practice the sign-in of state was begun for and, once it has
// ended, how.
func (r *Registry) SignIn(ctx context.Context, state string) (smart.Waited, error) {
	if r.opts.Connector == nil {
		return smart.Waited{}, errNotConfigured
	}
	return r.opts.Connector.States.Peek(ctx, state)
}

// CancelConnect drops a sign-in still waiting for its redirect (the user declined it); its
// listener closes.
func (r *Registry) CancelConnect(ctx context.Context, state string) error {
	if r.opts.Connector == nil {
		return errNotConfigured
	}
	return r.opts.Connector.States.Cancel(ctx, state)
}

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/vault"
)

// healthWait bounds how long Health waits for one actor; an actor that does not answer in time
// is reported as restarting rather than holding up the others.
const healthWait = 2 * time.Second

// Lookup finds a practice's actor by id or by name (case-insensitive). An empty key means "the
// only one", and is an error when zero or several practices are connected.
func (r *Registry) Lookup(ctx context.Context, key string) (*practice.Actor, error) {
	m := &lookupMsg{key: key, reply: actor.NewReply[lookupReply]()}
	rep, err := actor.Ask(ctx, r.box, regMsg(m), m.reply)
	if err != nil {
		return nil, err
	}
	return rep.actor, rep.err
}

// Actors lists every practice actor, ordered by practice name.
func (r *Registry) Actors(ctx context.Context) ([]*practice.Actor, error) {
	m := &actorsMsg{reply: actor.NewReply[[]*practice.Actor]()}
	return actor.Ask(ctx, r.box, regMsg(m), m.reply)
}

// Infos describes every connected practice, ordered by name.
func (r *Registry) Infos(ctx context.Context) ([]practice.Info, error) {
	return fanOut(ctx, r, func(ctx context.Context, a *practice.Actor) (practice.Info, error) {
		i, err := a.Info(ctx)
		if err != nil {
			return practice.Info{ID: a.ID(), State: "restarting"}, nil
		}
		return i, nil
	})
}

// Health collects every actor's health at once. An actor that cannot answer (it is
// restarting) is reported as such.
func (r *Registry) Health(ctx context.Context) ([]practice.Health, error) {
	return fanOut(ctx, r, func(ctx context.Context, a *practice.Actor) (practice.Health, error) {
		h, err := a.Health(ctx)
		if err != nil {
			return practice.Health{ID: a.ID(), State: "restarting", LastError: err.Error()}, nil
		}
		return h, nil
	})
}

// BeginConnect starts a SMART launch for a practice; see practice.Connector.BeginVia. When the
// connector listens for the redirect, the practice it connects is served at once and the user
// warned of it, as CompleteConnect does.
func (r *Registry) BeginConnect(ctx context.Context, name, fhirBase string) (practice.Authorization, error) {
	if r.opts.Connector == nil {
		return practice.Authorization{}, errNotConfigured
	}
	return r.opts.Connector.BeginVia(ctx, vault.ViaMCP, name, fhirBase, r.caught)
}

var errNotConfigured = errors.New("connecting is not configured: set HEALOW_CLIENT_ID, HEALOW_CLIENT_SECRET and HEALOW_REDIRECT_URI")

// CompleteConnect finishes a launch and serves the practice at once. The practice is recorded as
// connected through the MCP tools, and the user is warned on stderr where it points: a model
// may have been misled into connecting it.
func (r *Registry) CompleteConnect(ctx context.Context, input, state string) (practice.Info, error) {
	if r.opts.Connector == nil {
		return practice.Info{}, errNotConfigured
	}
	p, err := r.opts.Connector.CompleteVia(ctx, vault.ViaMCP, input, state)
	if err != nil {
		return practice.Info{}, err
	}
	r.warnConnected(p)
	return r.connected(ctx, p.ID)
}

// Sync reads the store now instead of at the next poll.
//
// It returns once the registry serves what the store holds and every actor whose row changed
// has taken the news (Reload), so that what a caller does next meets the new state.
func (r *Registry) Sync(ctx context.Context) error {
	m, err := r.read(ctx, -1)
	if err != nil {
		return err
	}
	m.applied = actor.NewReply[struct{}]()
	_, err = actor.Ask(ctx, r.box, regMsg(m), m.applied)
	return err
}

// downError says why the registry is down, given why its Serve returned, and what to do. Callers
// get it at once (through the mailbox) until a restart brings the loop back.
func downError(err error) error {
	switch {
	case errors.Is(err, vault.ErrDamaged):
		return fmt.Errorf("%w: %w", ErrRegistryDown, err) // it says what to do
	case errors.Is(err, context.Canceled), err == nil:
		return fmt.Errorf("%w: the server is stopping", ErrRegistryDown)
	}
	return fmt.Errorf("%w: its registry stopped (%w) and is restarted after a pause; "+
		"try again in a minute, and if it keeps happening, restart the MCP client and see the server's log", ErrRegistryDown, err)
}

// fanOut asks every actor at once, so one slow actor costs healthWait, not one per practice.
func fanOut[T any](ctx context.Context, r *Registry, f func(context.Context, *practice.Actor) (T, error)) ([]T, error) {
	actors, err := r.Actors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(actors))
	errs := make([]error, len(actors))
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, healthWait)
			defer cancel()
			out[i], errs[i] = f(ctx, a)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

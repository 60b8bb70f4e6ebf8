package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/vault"
)

// ErrUnknownPractice: no connected practice has that name or id.
var ErrUnknownPractice = errors.New("unknown practice")

// ErrRegistryDown: the registry's loop is not running (it failed and waits to be restarted, or
// the server is stopping), so no practice can be looked up until it runs again.
var ErrRegistryDown = errors.New("healow cannot serve its practices right now")

// Registry maps practice ids to their actors. It is itself an actor: its map is touched only by
// its Serve goroutine, and callers send it messages.
type Registry struct {
	opts      Options
	log       *slog.Logger
	practices *suture.Supervisor
	tree      *suture.Supervisor // the root, where Start runs the MCP layer's own actors
	box       *actor.Mailbox[regMsg]
	clock     actor.Clock
	audit     *auditor // nil without a store

	// Kept across restarts of Serve, since the actors outlive them in their own supervisor.
	entries map[string]*entry
	gen     int64

	// Reads of the store run outside the loop (a poll's, and Sync's in its caller), so they can
	// arrive out of order; each is numbered when it starts, and the loop applies only reads
	// that started after the one it applied last: an older read's rows could lack a practice
	// connected since, which would stop its actor and tell everyone it was removed.
	reads   atomic.Int64
	applied int64 // the number of the last read applied
}

type entry struct {
	actor *practice.Actor
	token suture.ServiceToken
	name  string
	stamp string // changes when the stored row changes

	reloaded chan struct{} // closed once the actor has taken its latest reload; nil before any
}

func newRegistry(opts Options, tree, practices *suture.Supervisor) *Registry {
	return &Registry{
		opts:      opts,
		log:       opts.Logger.With("service", "registry"),
		tree:      tree,
		practices: practices,
		box:       actor.NewMailbox[regMsg](),
		clock:     actor.OrReal(opts.Clock),
		entries:   map[string]*entry{},
		gen:       -1,
	}
}

func (r *Registry) String() string { return "registry" }

type regMsg interface{ isRegMsg() }

type lookupMsg struct {
	key   string
	reply *actor.Reply[lookupReply]
}
type lookupReply struct {
	actor *practice.Actor
	err   error
}
type actorsMsg struct {
	reply *actor.Reply[[]*practice.Actor]
}
type namesMsg struct {
	reply *actor.Reply[map[string]string]
} // practice id → name
type syncMsg struct {
	seq       int64 // when the read started, among the registry's reads
	rows      []vault.Practice
	gen       int64
	unchanged bool
	fromPoll  bool
	err       error
	applied   *actor.Reply[struct{}] // Sync's: answered once every actor heard of its change
}

func (*lookupMsg) isRegMsg() {}
func (*actorsMsg) isRegMsg() {}
func (*namesMsg) isRegMsg()  {}
func (*syncMsg) isRegMsg()   {}

// Serve keeps the set of actors equal to the set of stored practices: at start, then whenever
// the store's generation moves (another process connected, refreshed or removed a practice).
func (r *Registry) Serve(ctx context.Context) (err error) {
	defer func() { r.box.Down(downError(err)) }()
	m, err := r.read(ctx, -1)
	if err != nil {
		return fmt.Errorf("reading the practices from the store: %w", err)
	}
	r.sync(ctx, m)
	r.box.Up()
	tick := r.clock.NewTicker(r.opts.PollInterval)
	defer tick.Stop()
	polling := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C():
			if polling {
				continue
			}
			polling = true
			go func(known int64) { // the store may be busy: never wait for it in the loop
				m, err := r.read(ctx, known)
				if err != nil {
					m = &syncMsg{err: err}
				}
				m.fromPoll = true
				r.box.Send(ctx, m) // fails only when the loop has gone
			}(r.gen)
		case m := <-r.box.Receive():
			if s, ok := m.(*syncMsg); ok && s.fromPoll {
				polling = false
			}
			r.handle(ctx, m)
		}
	}
}

// read returns the stored practices when the store's generation differs from known, and a
// message with no rows otherwise.
func (r *Registry) read(ctx context.Context, known int64) (*syncMsg, error) {
	seq := r.reads.Add(1)
	store := r.opts.Practice.Store
	gen, err := store.Generation(ctx)
	if err != nil || gen == known {
		return &syncMsg{seq: seq, gen: known, unchanged: true}, err
	}
	rows, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	return &syncMsg{seq: seq, rows: rows, gen: gen}, nil
}

func (r *Registry) handle(ctx context.Context, m regMsg) {
	switch m := m.(type) {
	case *lookupMsg:
		a, err := r.lookup(m.key)
		m.reply.Send(lookupReply{a, err})
	case *actorsMsg:
		m.reply.Send(r.sorted())
	case *namesMsg:
		names := make(map[string]string, len(r.entries))
		for id, e := range r.entries {
			names[id] = e.name
		}
		m.reply.Send(names)
	case *syncMsg:
		r.sync(ctx, m)
	}
}

func (r *Registry) sync(ctx context.Context, m *syncMsg) {
	defer func() {
		if m.applied == nil {
			return
		}
		// Every reload under way, this sync's or an earlier poll's, before Sync returns; waited
		// for off the loop, since an actor that is restarting must not hold it up.
		var pending []chan struct{}
		for _, e := range r.entries {
			if e.reloaded != nil {
				pending = append(pending, e.reloaded)
			}
		}
		go func() {
			for _, c := range pending {
				<-c
			}
			m.applied.Send(struct{}{})
		}()
	}()
	if m.err != nil {
		r.log.Warn("reading the store failed", "err", m.err)
		return
	}
	if m.unchanged {
		return
	}
	if m.seq < r.applied {
		return // a newer read is applied already; a change since it is the next poll's
	}
	r.applied = m.seq
	seen := map[string]bool{}
	for _, p := range m.rows {
		seen[p.ID] = true
		stamp := fmt.Sprint(p.UpdatedAt.UnixNano(), p.TokenExpiry.UnixNano(), p.LastRefresh.UnixNano(), p.Name)
		e, ok := r.entries[p.ID]
		if !ok {
			a := practice.New(p.ID, r.opts.Practice)
			r.entries[p.ID] = &entry{actor: a, token: r.practices.Add(a), name: p.Name, stamp: stamp}
			r.log.Info("serving practice", "practice", p.ID, "name", p.Name)
			continue
		}
		if e.stamp != stamp {
			e.stamp, e.name = stamp, p.Name
			done := make(chan struct{})
			e.reloaded = done
			go func() { // an actor that is restarting must not hold up the registry
				defer close(done)
				ctx, cancel := r.clock.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				_ = e.actor.Reload(ctx)
			}()
		}
	}
	for id, e := range r.entries {
		if !seen[id] {
			r.log.Info("practice removed from the store; stopping its actor", "practice", id)
			_ = r.practices.Remove(e.token)
			e.actor.Close()
			delete(r.entries, id)
			// Before Sync returns: a subscriber has the news before the caller that removed it.
			r.opts.Practice.Events.Publish(practice.Event{Practice: id, Name: e.name, Removed: true, At: r.clock.Now()})
		}
	}
	r.gen = m.gen
}

func (r *Registry) sorted() []*practice.Actor {
	out := make([]*practice.Actor, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e.actor)
	}
	sort.Slice(out, func(i, j int) bool {
		return r.entries[out[i].ID()].name < r.entries[out[j].ID()].name
	})
	return out
}

func (r *Registry) lookup(key string) (*practice.Actor, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		switch len(r.entries) {
		case 0:
			return nil, fmt.Errorf("%w: no practice is connected yet; %s", ErrUnknownPractice, r.opts.Practice.Install.ConnectFirst())
		case 1:
			for _, e := range r.entries {
				return e.actor, nil
			}
		}
		return nil, fmt.Errorf("%w: %d practices are connected (%s); say which one with `practice`", ErrUnknownPractice, len(r.entries), r.names())
	}
	if e, ok := r.entries[key]; ok {
		return e.actor, nil
	}
	for _, e := range r.entries {
		if strings.EqualFold(e.name, key) {
			return e.actor, nil
		}
	}
	return nil, fmt.Errorf("%w %s: the connected practices are %s", ErrUnknownPractice, quote.Quote(key), r.names())
}

func (r *Registry) names() string {
	var names []string
	for _, e := range r.entries {
		names = append(names, fmt.Sprintf("%q", e.name))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Clock is the registry's time, which callers that keep time-bound state of their own (the MCP
// layer's paging cursors) share, so that tests control it too.
func (r *Registry) Clock() actor.Clock { return r.clock }

// Events is the tree's bus: every practice's state changes, and the registry's news that a
// practice is no longer served (Event.Removed).
func (r *Registry) Events() *actor.Bus[practice.Event] { return r.opts.Practice.Events }

// Start runs s in the tree, beside the registry, until the tree stops; suture restarts it if it
// fails. It is for the MCP layer's own actors (search_record's indexes, the typed searches'
// pages), which hold what they read of the practices and must stop with them.
func (r *Registry) Start(s suture.Service) { r.tree.Add(s) }

// Install is how healow was installed, for the MCP layer to word its own advice as the
// practices' errors do.
func (r *Registry) Install() advice.Install { return r.opts.Practice.Install }

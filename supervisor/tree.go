// Package supervisor runs the suture tree: a registry that maps practice ids to practice actors,
// and a sub-supervisor under which each actor runs, restarted with backoff when it fails. It also
// disconnects practices and writes the audit trail; what `healow status` and the practice_status
// tool show, and the socket that answers them, are package supervisor/status.
package supervisor

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Options configure the tree.
type Options struct {
	// Practice is what every actor shares (store, keychain, HTTP clients).
	Practice practice.Options
	// Connector runs SMART launches for connect_practice and complete_oauth.
	Connector *practice.Connector
	// Directory is eClinicalWorks' endpoint directory, for find_practice; nil means none.
	Directory *directory.Directory
	// Clock is the tree's time (its polls, its timeouts); nil means the wall clock.
	Clock  actor.Clock
	Logger *slog.Logger
	// PollInterval is how often the store is checked for practices connected or changed by
	// another process. Zero means one second.
	PollInterval time.Duration

	// StatusDir, when set, is where this process answers `healow status` on a unix socket
	// (see status.SocketDir). Empty means it does not.
	StatusDir string
	// Version is what status reports for this process.
	Version string
	// AuditRetention is how long audit rows are kept; zero means DefaultAuditRetention.
	AuditRetention time.Duration
	// StateEvery is how often practices' states are compared with what the store last heard;
	// zero means one second.
	StateEvery time.Duration
}

// Tree is the root of the service tree:
//
//	healow
//	├── audit               writes the audit trail
//	├── practice directory  eClinicalWorks' endpoint directory (with Options.Directory)
//	├── practices
//	│   └── practice pr_…
//	├── record indexes      search_record's, once it is first called (Registry.Start)
//	├── registry
//	├── search pages        typed searches' results kept for next, from the first (Registry.Start)
//	├── sign-ins            the SMART launches in flight (with Options.Connector)
//	├── state recorder      remembers each practice's last state in the store
//	└── status              answers healow status (with Options.StatusDir)
type Tree struct {
	root     *suture.Supervisor
	Registry *Registry
	Started  time.Time
	// Events carries every practice's state changes (refreshed, degraded, circuit open, needs
	// reconnect) to whoever subscribes.
	Events *actor.Bus[practice.Event]

	recorder  *status.Recorder // nil without a store
	listening chan struct{}    // closed once healow status can reach this process
}

// Listening is closed once healow status can reach this process (at once without a StatusDir).
func (t *Tree) Listening() <-chan struct{} { return t.listening }

// RecordStates writes the practices' states that changed to the store now, rather than at the
// recorder's next look, and returns once they are written.
func (t *Tree) RecordStates(ctx context.Context) error {
	if t.recorder == nil {
		return nil
	}
	return t.recorder.Record(ctx)
}

// New builds the tree. Nothing runs until Serve.
func New(opts Options) *Tree {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if opts.Practice.Logger == nil {
		opts.Practice.Logger = opts.Logger
	}
	if opts.AuditRetention == 0 {
		opts.AuditRetention = DefaultAuditRetention
	}
	if opts.Version == "" {
		opts.Version = "unknown"
	}
	if opts.StateEvery == 0 {
		opts.StateEvery = time.Second
	}
	// One clock for the tree and its practices; one bus for every practice's events.
	clock := actor.OrReal(cmp.Or(opts.Clock, opts.Practice.Clock))
	opts.Clock, opts.Practice.Clock = clock, clock
	if opts.Practice.Events == nil {
		opts.Practice.Events = &actor.Bus[practice.Event]{}
	}
	now := clock.Now
	hook := eventHook(opts.Logger, now)
	root := suture.New("healow", suture.Spec{EventHook: hook})
	practices := suture.New("practices", suture.Spec{EventHook: hook, FailureBackoff: 5 * time.Second})
	reg := newRegistry(opts, root, practices)
	t := &Tree{root: root, Registry: reg, Started: now(), Events: opts.Practice.Events}
	root.Add(reg)
	root.Add(practices)
	if opts.Connector != nil && opts.Connector.States != nil {
		root.Add(opts.Connector.States) // the sign-ins in flight, for connect_practice and complete_oauth
	}
	if opts.Directory != nil {
		root.Add(opts.Directory) // the practice directory, for find_practice
	}
	if store := opts.Practice.Store; store != nil {
		reg.audit = &auditor{store: store, rows: make(chan vault.Access, auditBuffer), retention: opts.AuditRetention,
			clock: clock, log: opts.Logger.With("service", "audit"), flushes: actor.NewMailbox[*actor.Reply[struct{}]]()}
		root.Add(reg.audit)
		t.recorder = status.NewRecorder(statusSource{t}, store, opts.StateEvery, clock, opts.Practice.Events, opts.Logger)
		root.Add(t.recorder)
	}
	t.listening = make(chan struct{})
	if opts.StatusDir != "" {
		root.Add(&status.Listener{Path: status.SocketPath(opts.StatusDir, os.Getpid()),
			Process: status.Process{PID: os.Getpid(), Started: t.Started, Version: opts.Version},
			Source:  statusSource{t}, Log: opts.Logger, Listening: t.listening})
	} else {
		close(t.listening)
	}
	return t
}

// Serve runs the tree until ctx ends.
func (t *Tree) Serve(ctx context.Context) error { return t.root.Serve(ctx) }

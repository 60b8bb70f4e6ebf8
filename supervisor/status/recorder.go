package status

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Recorder is the service that writes each practice's state to the store when it changes, so
// that `healow status` can tell the last known state of a practice while no server runs. It
// compares when a practice publishes a change, and every Every besides (a last error can change
// without the state changing).
type Recorder struct {
	source Source
	store  *vault.Store
	every  time.Duration
	clock  actor.Clock
	events *actor.Bus[practice.Event]
	log    *slog.Logger
	box    *actor.Mailbox[*actor.Reply[error]]
}

// NewRecorder returns the recorder of source's practices into store. events may be nil.
func NewRecorder(source Source, store *vault.Store, every time.Duration, clock actor.Clock, events *actor.Bus[practice.Event], log *slog.Logger) *Recorder {
	return &Recorder{source: source, store: store, every: every, clock: actor.OrReal(clock), events: events,
		log: orDiscard(log), box: actor.NewMailbox[*actor.Reply[error]]()}
}

func (s *Recorder) String() string { return "state recorder" }

// Record compares the states now and returns once what changed is written.
func (s *Recorder) Record(ctx context.Context) error {
	reply := actor.NewReply[error]()
	err, askErr := actor.Ask(ctx, s.box, reply, reply)
	if askErr != nil {
		return askErr
	}
	return err
}

// Serve compares the states until ctx ends.
func (s *Recorder) Serve(ctx context.Context) error {
	known := map[string]vault.KnownState{} // rebuilt on restart: writing once more is harmless
	tick := s.clock.NewTicker(s.every)
	defer tick.Stop()
	var changes <-chan practice.Event
	if s.events != nil {
		c, stop := s.events.Subscribe(64)
		defer stop()
		changes = c
	}
	s.box.Up()
	defer s.box.Down(context.Canceled)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C():
			s.record(ctx, known)
		case <-changes:
			s.record(ctx, known)
		case r := <-s.box.Receive():
			r.Send(s.record(ctx, known))
		}
	}
}

// record writes the states that changed since it last did.
func (s *Recorder) record(ctx context.Context, known map[string]vault.KnownState) error {
	sctx, cancel := context.WithTimeout(ctx, wait)
	ps, err := s.source.Practices(sctx)
	cancel()
	if err != nil {
		return err // the registry is restarting; next time
	}
	for _, p := range ps {
		k := vault.KnownState{State: string(p.State), LastError: p.LastError, PID: os.Getpid(), At: s.clock.Now()}
		if old, ok := known[p.ID]; ok && old.State == k.State && old.LastError == k.LastError {
			continue
		}
		if err := s.store.RecordState(ctx, p.ID, k); err != nil {
			s.log.Warn("recording a practice's state failed", "practice", p.ID, "err", err)
			continue
		}
		known[p.ID] = k
	}
	return nil
}

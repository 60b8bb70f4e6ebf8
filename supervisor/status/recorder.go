package status

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// Recorder is the service that writes each practice's state to the store when it changes, so
// that `healow status` can tell the last known state of a practice while no server runs.
type Recorder struct {
	Source Source
	Store  *vault.Store
	Every  time.Duration    // how often the states are compared with what the store last heard
	Now    func() time.Time // the time recorded with a state
	Log    *slog.Logger     // nil logs nothing
}

func (s *Recorder) String() string { return "state recorder" }

// Serve compares the states every Every until ctx ends.
func (s *Recorder) Serve(ctx context.Context) error {
	known := map[string]vault.KnownState{} // rebuilt on restart: writing once more is harmless
	tick := time.NewTicker(s.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, wait)
		ps, err := s.Source.Practices(sctx)
		cancel()
		if err != nil {
			continue // the registry is restarting; next time
		}
		for _, p := range ps {
			k := vault.KnownState{State: string(p.State), LastError: p.LastError, PID: os.Getpid(), At: s.Now()}
			if old, ok := known[p.ID]; ok && old.State == k.State && old.LastError == k.LastError {
				continue
			}
			if err := s.Store.RecordState(ctx, p.ID, k); err != nil {
				orDiscard(s.Log).Warn("recording a practice's state failed", "practice", p.ID, "err", err)
				continue
			}
			known[p.ID] = k
		}
	}
}

package supervisor

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
)

// stateRecorder writes each practice's state to the store when it changes, so that `healow
// status` can tell the last known state of a practice while no server runs.
type stateRecorder struct {
	reg   *Registry
	store *vault.Store
	every time.Duration
	now   func() time.Time
	log   *slog.Logger
}

func (s *stateRecorder) String() string { return "state recorder" }

func (s *stateRecorder) Serve(ctx context.Context) error {
	known := map[string]vault.KnownState{} // rebuilt on restart: writing once more is harmless
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, statusWait)
		ps, err := s.reg.Status(sctx)
		cancel()
		if err != nil {
			continue // the registry is restarting; next time
		}
		for _, p := range ps {
			k := vault.KnownState{State: string(p.State), LastError: p.LastError, PID: os.Getpid(), At: s.now()}
			if old, ok := known[p.ID]; ok && old.State == k.State && old.LastError == k.LastError {
				continue
			}
			if err := s.store.RecordState(ctx, p.ID, k); err != nil {
				s.log.Warn("recording a practice's state failed", "practice", p.ID, "err", err)
				continue
			}
			known[p.ID] = k
		}
	}
}

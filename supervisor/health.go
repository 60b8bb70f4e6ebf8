package supervisor

import (
	"context"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
)

// Status collects every practice's health at once, ordered by name, each with what to do when it
// is not healthy. An actor that does not answer before ctx ends (at most two seconds) is reported
// as restarting, and one the supervisor no longer runs as stopped.
func (r *Registry) Status(ctx context.Context) ([]status.Practice, error) {
	m := &namesMsg{reply: actor.NewReply[map[string]string]()}
	names, err := actor.Ask(ctx, r.box, regMsg(m), m.reply)
	if err != nil {
		return nil, err
	}
	running := r.running(ctx)
	return fanOut(ctx, r, func(ctx context.Context, a *practice.Actor) (status.Practice, error) {
		h, err := a.Health(ctx)
		patient := ""
		if err == nil {
			if i, err := a.Info(ctx); err == nil {
				patient = i.PatientID
			}
		} else {
			h = practice.Health{ID: a.ID(), Name: names[a.ID()], State: status.StateRestarting, LastError: err.Error()}
		}
		if running != nil && !running[a.ID()] {
			h.State = status.StateStopped
		}
		return status.Of(h, patient, r.opts.Practice.Install), nil
	})
}

// running lists the practice actors the supervisor runs, or nil if it cannot tell in time.
func (r *Registry) running(ctx context.Context) map[string]bool {
	got := make(chan map[string]bool, 1)
	go func() { // Services waits for the supervisor's loop, which has no deadline of its own
		ids := map[string]bool{}
		for _, s := range r.practices.Services() {
			if a, ok := s.(*practice.Actor); ok {
				ids[a.ID()] = true
			}
		}
		got <- ids
	}()
	select {
	case ids := <-got:
		return ids
	case <-ctx.Done():
		return nil
	}
}

package mcp

import (
	"context"
	"fmt"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
)

// healthNote is a sentence for a result a's practice gave while it is not healthy (degraded,
// rate-limited, circuit open, needs reconnect...): its state and what the user can do, in the
// words practice_status uses. An answer that came back is easily taken for a practice that is
// fine, and the next call may then fail. Empty when the practice is healthy, or when the actor
// cannot tell at once (the result itself then stands alone).
func (t *tools) healthNote(ctx context.Context, a *practice.Actor) string {
	h, err := a.Health(ctx)
	if err != nil {
		return ""
	}
	p := status.Of(h, "", t.reg.Install())
	if p.Healthy || p.Advice == "" {
		return ""
	}
	return fmt.Sprintf("%q is %s: %s. practice_status tells more.", h.Name, h.State, p.Advice)
}

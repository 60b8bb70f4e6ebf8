package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// DefaultAuditRetention is how long the audit trail keeps a row: rows older than this are
// pruned when a server starts and once a day while it runs.
const DefaultAuditRetention = 90 * 24 * time.Hour

// Access is one read of patient data, as the MCP layer reports it for the audit trail. It never
// holds the content, a token or the values a search was made with.
type Access struct {
	PracticeID   string
	Tool         string // the MCP tool, e.g. "search_observation"
	ResourceType string // e.g. "Observation"
	Resources    int    // resources the practice returned (a typed search reads every match, then pages them)
	Withheld     int    // resources left out as not the connected patient's
	Outcome      string // "ok" or an error class, e.g. "http-403", "needs-reconnect"
}

const (
	auditBuffer = 1024            // rows waiting for the writer
	auditWait   = time.Second     // longest a tool call waits for room in a full buffer
	auditBatch  = 256             // rows written per transaction at most
	auditFlush  = 5 * time.Second // what writing one batch may take, at shutdown too
)

// RecordAccess adds a row to the audit trail. It returns at once: a service writes the rows to
// the store in batches, and on a clean shutdown writes what is left. Only if the store has been
// stuck long enough to fill the buffer does it wait, a second at most, and then drop the row
// with a warning rather than hold the tool call.
func (r *Registry) RecordAccess(a Access) {
	if r.audit == nil {
		return
	}
	row := vault.Access{At: r.audit.clock.Now(), PID: os.Getpid(), PracticeID: a.PracticeID, Tool: a.Tool,
		ResourceType: a.ResourceType, Resources: a.Resources, Withheld: a.Withheld, Outcome: a.Outcome}
	select {
	case r.audit.rows <- row:
		return
	default:
	}
	t := r.audit.clock.NewTimer(auditWait)
	defer t.Stop()
	select {
	case r.audit.rows <- row:
	case <-t.C():
		r.audit.log.Warn("the audit trail is not being written (is the store locked?); a row was dropped",
			"practice", a.PracticeID, "tool", a.Tool)
	}
}

// FlushAudit returns once every row recorded so far is in the store (and, on a server that just
// started, once the old rows are pruned).
func (r *Registry) FlushAudit(ctx context.Context) error {
	if r.audit == nil {
		return nil
	}
	done := actor.NewReply[struct{}]()
	_, err := actor.Ask(ctx, r.audit.flushes, done, done)
	return err
}

// auditor writes the audit trail and prunes it.
type auditor struct {
	store     *vault.Store
	rows      chan vault.Access
	retention time.Duration
	clock     actor.Clock
	log       *slog.Logger
	flushes   *actor.Mailbox[*actor.Reply[struct{}]]
}

func (a *auditor) String() string { return "audit" }

func (a *auditor) Serve(ctx context.Context) error {
	a.prune(ctx)
	daily := a.clock.NewTicker(24 * time.Hour)
	defer daily.Stop()
	a.flushes.Up()
	defer a.flushes.Down(errors.New("the audit trail's writer is not running"))
	for {
		select {
		case done := <-a.flushes.Receive():
			for a.writeBatch(ctx, nil) > 0 {
			}
			done.Send(struct{}{})
		case <-ctx.Done():
			// The rows already taken must reach the store although we are stopping.
			for a.writeBatch(ctx, nil) > 0 {
			}
			return ctx.Err()
		case <-daily.C():
			a.prune(ctx)
		case row := <-a.rows:
			a.writeBatch(ctx, &row)
		}
	}
}

// writeBatch writes first (if any) and whatever else is waiting, up to a batch, and says how
// many rows it took.
func (a *auditor) writeBatch(ctx context.Context, first *vault.Access) int {
	var batch []vault.Access
	if first != nil {
		batch = append(batch, *first)
	}
	for len(batch) < auditBatch {
		select {
		case row := <-a.rows:
			batch = append(batch, row)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return 0
	}
	// A row taken is written even when ctx ends meanwhile: stopping must not lose it.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditFlush)
	defer cancel()
	if err := a.store.RecordAccess(wctx, batch...); err != nil {
		a.log.Warn("writing the audit trail failed; rows were lost", "rows", len(batch), "err", err)
	}
	return len(batch)
}

func (a *auditor) prune(ctx context.Context) {
	n, err := a.store.PruneAudit(ctx, a.clock.Now().Add(-a.retention))
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Warn("pruning the audit trail failed", "err", err)
	case n > 0:
		a.log.Info("pruned the audit trail", "rows", n, "older_than", a.retention)
	}
}

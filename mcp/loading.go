package mcp

import (
	"context"
	"errors"
	"fmt"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/supervisor"
)

// Loading is a registry on its way. healow serve answers initialize and tools/list while it
// opens the token store and starts its practices (none of which a client needs to see the
// tools), and tool calls wait for what Done hands over.
type Loading struct {
	done chan struct{}
	once sync.Once
	reg  *supervisor.Registry
	err  error
}

// NewLoading returns a registry not loaded yet.
func NewLoading() *Loading { return &Loading{done: make(chan struct{})} }

// Done hands over the registry, or why there is none: then every tool call fails with err,
// which should say what to do. Only the first call counts.
//
// The registry may still be reading the store: a call that looks a practice up waits for it
// (see supervisor.Registry), so it sees every stored practice, never some of them.
func (l *Loading) Done(reg *supervisor.Registry, err error) {
	l.once.Do(func() {
		if reg == nil && err == nil {
			err = errors.New("no registry was handed over")
		}
		l.reg, l.err = reg, err
		close(l.done)
	})
}

// wait returns the registry once it is handed over, or the reason there is none.
func (l *Loading) wait(ctx context.Context) (*supervisor.Registry, error) {
	select {
	case <-l.done:
	default:
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("healow was still opening its token store when this call ended: %w", ctx.Err())
		}
	}
	if l.err != nil {
		return nil, fmt.Errorf("healow serves no practice: %w. Once that is put right, restart the MCP client, which starts healow again", l.err)
	}
	return l.reg, nil
}

// awaitRegistry holds tool calls until the registry is handed over, and then gives the tools
// their registry. Nothing else a client asks (initialize, tools/list, ping) needs it.
func (t *tools) awaitRegistry(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		reg, err := t.loading.wait(ctx)
		if err != nil {
			res := &sdk.CallToolResult{}
			res.SetError(err)
			return res, nil
		}
		// The once makes its one write visible to every call.
		t.handed.Do(func() {
			t.reg, t.clock = reg, actor.OrReal(reg.Clock())
		})
		return next(ctx, method, req)
	}
}

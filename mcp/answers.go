package mcp

import (
	"context"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

// answersKey carries, in a call's context, the practice answers the call read.
type answersKey struct{}

// answers are the practice answers one call read; each holds memory budget (practice.Budget)
// until the call's result is built.
type answers struct {
	mu   sync.Mutex
	held []*practice.Response
}

// releaseAnswers gives back the memory budget of every answer a call read once the call has its
// result: until then the answer, or the cleaned copy made from it, is still in memory.
func releaseAnswers(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		a := &answers{}
		defer a.release()
		return next(context.WithValue(ctx, answersKey{}, a), method, req)
	}
}

// keepUntilResult has the call in ctx release resp when its result is built. Outside a call
// (a handler run by a test) the answer gives its budget back when it is garbage collected.
func keepUntilResult(ctx context.Context, resp *practice.Response) {
	a, ok := ctx.Value(answersKey{}).(*answers)
	if !ok || resp == nil {
		return
	}
	a.mu.Lock()
	a.held = append(a.held, resp)
	a.mu.Unlock()
}

func (a *answers) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.held {
		r.Release()
	}
	a.held = nil
}

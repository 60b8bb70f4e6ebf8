package mcp

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A call that gives up while the store is still being opened is told so; only the first Done
// counts, and a Done with neither a registry nor an error is an error.
func TestLoadingWait(t *testing.T) {
	t.Parallel()
	l := NewLoading()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.wait(ctx); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still opening its token store") {
		t.Fatalf("wait with an ended context = %v", err)
	}
	l.Done(nil, nil)
	l.Done(nil, errors.New("too late"))
	if _, err := l.wait(context.Background()); err == nil || strings.Contains(err.Error(), "too late") {
		t.Fatalf("wait after Done(nil, nil) = %v", err)
	}
}

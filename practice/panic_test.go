package practice

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/thejerf/suture/v4"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// An actor that panics answers the caller it was serving, is restarted by its supervisor, and
// leaves the other practice's actor alone.
func TestPanickingActorIsRestartedAndAnswers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	sickID, sickP := w.connect(t, 0)
	wellID, wellP := w.connect(t, 1)
	var armed atomic.Bool
	o := w.opts
	o.onDispatch = func(Request) {
		if armed.CompareAndSwap(true, false) {
			panic("boom")
		}
	}
	sick, well := New(sickID, o), New(wellID, w.opts)
	sup := suture.New("test", suture.Spec{EventHook: func(suture.Event) {}, FailureBackoff: 1})
	sup.Add(sick)
	sup.Add(well)
	ctx, cancel := context.WithCancel(context.Background())
	done := sup.ServeBackground(ctx)
	t.Cleanup(func() { cancel(); <-done })

	armed.Store(true)
	if _, err := sick.Fetch(ctx, patientRead(sickP)); !errors.Is(err, ErrStopped) {
		t.Fatalf("the caller of a panicking actor got %v", err)
	}
	if _, err := well.Fetch(ctx, patientRead(wellP)); err != nil {
		t.Fatalf("the other practice: %v", err)
	}
	if _, err := sick.Fetch(ctx, patientRead(sickP)); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	if h, _ := sick.Health(ctx); h.Restarts != 1 {
		t.Fatalf("restarts = %d", h.Restarts)
	}
}

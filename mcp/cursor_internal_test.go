package mcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// serveCursors runs a cursors actor on clock until the test ends.
func serveCursors(t *testing.T, clock actor.Clock) *cursors {
	t.Helper()
	c := newCursors(clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Serve(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// Cursors hold at most maxCursorBytes together: the oldest results go first, and their cursors
// then say they expired.
func TestCursorsKeepTheirBytesBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := actor.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	c := serveCursors(t, clock)
	big := func() *held {
		return &held{tool: "search_observation", entries: make([]item, 3), bytes: maxCursorBytes / 3}
	}
	keep := func() string {
		id, err := c.keep(ctx, big())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := keep()
	var last string
	for range 3 {
		last = keep()
	}
	if _, _, _, err := c.take(ctx, "search_observation", cursorToken(first, 1)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("the oldest result is still held: %v", err)
	}
	if _, _, off, err := c.take(ctx, "search_observation", cursorToken(last, 2)); err != nil || off != 2 {
		t.Fatalf("the newest result: %v", err)
	}
	if n, bytes, err := c.usage(ctx); err != nil || n != 3 || bytes > maxCursorBytes {
		t.Fatalf("%d results, %d bytes held: %v", n, bytes, err)
	}
	for _, bad := range []string{"", ".", "x.1", last, last + ".-1", last + ".x", strings.Repeat("a", 24) + ".1"} {
		if _, _, _, err := c.take(ctx, "search_observation", bad); err == nil {
			t.Errorf("cursor %q was taken", bad)
		}
	}
	if _, _, _, err := c.take(ctx, "search_condition", cursorToken(last, 0)); err == nil || !strings.Contains(err.Error(), "pass it to search_observation") {
		t.Errorf("another tool's cursor: %v", err)
	}
	if _, _, _, err := c.take(ctx, "search_observation", cursorToken(last, 4)); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("past the end: %v", err)
	}
}

// A result is let go when its life ends, whether or not anyone asks for it again: the actor's
// timer on the clock drops it, so an idle server holds nothing.
func TestCursorsLapseOnTheClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := actor.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	c := serveCursors(t, clock)
	first, err := c.keep(ctx, &held{tool: "search_observation", entries: make([]item, 2), bytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := clock.WaitTimers(ctx, 1); err != nil { // the first result's end is armed
		t.Fatal(err)
	}
	clock.Advance(cursorLife / 2)
	second, err := c.keep(ctx, &held{tool: "search_observation", entries: make([]item, 2), bytes: 50})
	if err != nil {
		t.Fatal(err)
	}
	// The first's life is over and nobody asks for it: the loop drops it and arms the second's end.
	clock.Advance(cursorLife / 2)
	if err := clock.WaitTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := usageIs(ctx, c, 1, 50); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.take(ctx, "search_observation", cursorToken(first, 0)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("after its life: %v", err)
	}
	if _, _, _, err := c.take(ctx, "search_observation", cursorToken(second, 1)); err != nil {
		t.Fatalf("the second, half-way through its life: %v", err)
	}
	clock.Advance(cursorLife / 2)
	if err := usageIs(ctx, c, 0, 0); err != nil {
		t.Fatal(err)
	}
	if n := clock.Timers(); n != 0 {
		t.Fatalf("%d timers armed with nothing held", n)
	}
}

// usageIs checks that c holds n results of bytes.
func usageIs(ctx context.Context, c *cursors, n, bytes int) error {
	gotN, gotBytes, err := c.usage(ctx)
	if err == nil && (gotN != n || gotBytes != bytes) {
		err = fmt.Errorf("%d results of %d bytes held, want %d of %d", gotN, gotBytes, n, bytes)
	}
	return err
}

// A stopped actor answers at once: nothing is held, and a page asked for says why.
func TestCursorsStoppedSayWhy(t *testing.T) {
	t.Parallel()
	c := newCursors(actor.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Serve(ctx) }()
	id, err := c.keep(context.Background(), &held{tool: "search_observation", entries: make([]item, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if _, _, _, err := c.take(context.Background(), "search_observation", cursorToken(id, 1)); !errors.Is(err, actor.ErrDown) || !strings.Contains(err.Error(), "run the search again") {
		t.Fatalf("take: %v", err)
	}
	if _, err := c.keep(context.Background(), &held{}); !errors.Is(err, actor.ErrDown) {
		t.Fatalf("keep: %v", err)
	}
}

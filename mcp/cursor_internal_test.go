package mcp

import (
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// Cursors hold at most maxCursorBytes together: the oldest results go first, and their cursors
// then say they expired.
func TestCursorsKeepTheirBytesBounded(t *testing.T) {
	clock := actor.NewFake(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	c := newCursors(clock)
	big := func() *held {
		return &held{tool: "search_observation", entries: make([]item, 3), bytes: maxCursorBytes / 3}
	}
	first := c.keep(big())
	var last string
	for range 3 {
		last = c.keep(big())
	}
	if _, _, _, err := c.take("search_observation", cursorToken(first, 1)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("the oldest result is still held: %v", err)
	}
	if _, _, off, err := c.take("search_observation", cursorToken(last, 2)); err != nil || off != 2 {
		t.Fatalf("the newest result: %v", err)
	}
	if c.bytes > maxCursorBytes {
		t.Fatalf("%d bytes held", c.bytes)
	}
	for _, bad := range []string{"", ".", "x.1", last, last + ".-1", last + ".x", strings.Repeat("a", 24) + ".1"} {
		if _, _, _, err := c.take("search_observation", bad); err == nil {
			t.Errorf("cursor %q was taken", bad)
		}
	}
	clock.Advance(cursorLife + time.Second)
	if _, _, _, err := c.take("search_observation", cursorToken(last, 0)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("after its life: %v", err)
	}
}

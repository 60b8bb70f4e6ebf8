package mcp

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// Typed searches order what they read themselves (eCW offers no _sort), so they page their own
// result: its ordered entries stay in this process, and the next cursor a result gives names them
// and where the following page starts. A cursor is bound to the tool, the practice and the
// patient it was read for, and lapses after cursorLife.
const (
	cursorLife = 30 * time.Minute
	// maxCursorBytes bounds what all cursors hold together; the oldest go first.
	maxCursorBytes = 32 << 20
)

// held is one ordered result kept for its following pages.
type held struct {
	tool, practiceID, patientID string
	resource                    string
	entries                     []item
	extra                       heldNotes
	bytes                       int
	expires                     time.Time
}

// heldNotes is what every page of a held result repeats.
type heldNotes struct {
	total    *int
	included []json.RawMessage
	note     string // what the whole read left out (more than the bound, withheld, unread pages)
	withheld int
}

type cursors struct {
	clock actor.Clock
	mu    sync.Mutex
	held  map[string]*held
	order []string // ids, oldest first
	bytes int
}

func newCursors(clock actor.Clock) *cursors {
	return &cursors{clock: actor.OrReal(clock), held: map[string]*held{}}
}

var cursorEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// keep holds h and returns its id.
func (c *cursors) keep(h *held) string {
	var b [15]byte
	rand.Read(b[:])
	id := strings.ToLower(cursorEncoding.EncodeToString(b[:]))
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	h.expires = now.Add(cursorLife)
	c.held[id], c.bytes = h, c.bytes+h.bytes
	c.order = append(c.order, id)
	for len(c.order) > 1 && (c.bytes > maxCursorBytes || c.held[c.order[0]].expires.Before(now)) {
		c.drop(c.order[0])
	}
	return id
}

func (c *cursors) drop(id string) {
	if h, ok := c.held[id]; ok {
		c.bytes -= h.bytes
		delete(c.held, id)
	}
	for i, o := range c.order {
		if o == id {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

// cursorToken is what a result's next holds: the held result's id and where the page starts.
func cursorToken(id string, offset int) string { return id + "." + strconv.Itoa(offset) }

// cursorGone is what a model sees for a cursor this process no longer holds.
const cursorGone = "this next cursor has expired (a search's pages are kept for %d minutes, and not across a restart of healow); run the search again without next"

// take finds the held result a next cursor names and checks it belongs to tool.
func (c *cursors) take(tool, next string) (h *held, id string, offset int, err error) {
	id, off, ok := strings.Cut(strings.TrimSpace(next), ".")
	offset, err = strconv.Atoi(off)
	if !ok || err != nil || offset < 0 || len(id) != cursorEncoding.EncodedLen(15) {
		return nil, "", 0, fmt.Errorf("next: %s is not a next cursor of this tool; pass the next value of this tool's previous result as it was given", quote.Quote(cutText(next, 64)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, found := c.held[id]
	if found && h.expires.Before(c.clock.Now()) {
		c.drop(id)
		found = false
	}
	switch {
	case !found:
		return nil, "", 0, fmt.Errorf("next: "+cursorGone, int(cursorLife/time.Minute))
	case h.tool != tool:
		return nil, "", 0, fmt.Errorf("next: this cursor pages %s's results; pass it to %s instead", h.tool, h.tool)
	case offset > len(h.entries):
		return nil, "", 0, fmt.Errorf("next: this cursor points past the end of its results (%d); run the search again without next", len(h.entries))
	}
	return h, id, offset, nil
}

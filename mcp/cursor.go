package mcp

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
}

// heldNotes is what every page of a held result repeats.
type heldNotes struct {
	total    *int
	included []json.RawMessage
	note     string // what the whole read left out (more than the bound, withheld, unread pages)
	withheld int
}

// cursors holds the results kept for their following pages. It is an actor, run in the tree
// (supervisor.Registry.Start): its loop alone owns what is held, and drops each result when
// its life ends, on the registry's clock, so an idle server does not keep them.
type cursors struct {
	clock actor.Clock
	box   *actor.Mailbox[cursorMsg]
}

type cursorMsg interface{ isCursorMsg() }

// keepMsg holds h under id.
type keepMsg struct {
	id   string
	h    *held
	done *actor.Reply[struct{}]
}

// takeMsg asks for the result held under id; nil when it is not held (never was, or lapsed).
type takeMsg struct {
	id    string
	reply *actor.Reply[*held]
}

// usageMsg asks how many results are held, and their bytes.
type usageMsg struct{ reply *actor.Reply[[2]int] }

func (keepMsg) isCursorMsg()  {}
func (takeMsg) isCursorMsg()  {}
func (usageMsg) isCursorMsg() {}

// errCursorsStopped is why no result can be held or paged while the loop is not running.
var errCursorsStopped = errors.New("healow is stopping or restarting the part that keeps a search's pages; run the search again in a moment")

func newCursors(clock actor.Clock) *cursors {
	return &cursors{clock: actor.OrReal(clock), box: actor.NewMailbox[cursorMsg]()}
}

var cursorEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// String names the actor in the service tree.
func (c *cursors) String() string { return "search pages" }

// kept is the loop's state: the results held, by id and oldest first, and their bytes.
type kept struct {
	held  map[string]keptResult
	order []string
	bytes int
}

type keptResult struct {
	*held
	expires time.Time
}

// Serve holds results until ctx ends. A restart starts empty: cursors do not outlive it.
func (c *cursors) Serve(ctx context.Context) error {
	k := &kept{held: map[string]keptResult{}}
	var expiry actor.Timer // armed for the oldest result's end, while one is held
	var armedFor string    // that result's id
	disarm := func() {
		if expiry != nil {
			expiry.Stop()
			expiry, armedFor = nil, ""
		}
	}
	defer func() {
		disarm()
		c.box.Down(errCursorsStopped)
	}()
	c.box.Up()
	for {
		var due <-chan time.Time
		if expiry != nil {
			due = expiry.C()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-due:
			expiry, armedFor = nil, "" // fired: armed again below for what is left
			k.expire(c.clock.Now())
		case m := <-c.box.Receive():
			now := c.clock.Now()
			k.expire(now) // whether or not the timer's tick was read first
			switch m := m.(type) {
			case keepMsg:
				k.keep(now, m.id, m.h)
				m.done.Send(struct{}{})
			case takeMsg:
				m.reply.Send(k.held[m.id].held)
			case usageMsg:
				m.reply.Send([2]int{len(k.held), k.bytes})
			}
		}
		switch { // the timer follows the oldest result held
		case len(k.order) == 0:
			disarm()
		case k.order[0] != armedFor:
			disarm()
			armedFor = k.order[0]
			expiry = c.clock.NewTimer(k.held[armedFor].expires.Sub(c.clock.Now()))
		}
	}
}

// keep holds h and returns its id. When it cannot (the loop is not running, ctx ended), the
// result's following pages cannot be given, and the error says so.
func (c *cursors) keep(ctx context.Context, h *held) (string, error) {
	var b [15]byte
	rand.Read(b[:])
	id := strings.ToLower(cursorEncoding.EncodeToString(b[:]))
	r := actor.NewReply[struct{}]()
	if _, err := actor.Ask[cursorMsg](ctx, c.box, keepMsg{id, h, r}, r); err != nil {
		return "", err
	}
	return id, nil
}

// usage says how many results are held and their bytes together.
func (c *cursors) usage(ctx context.Context) (n, bytes int, err error) {
	r := actor.NewReply[[2]int]()
	u, err := actor.Ask[cursorMsg](ctx, c.box, usageMsg{r}, r)
	return u[0], u[1], err
}

// keep holds h under id, then drops the oldest results while the bytes held pass the bound
// (the newest stays, whatever its size).
func (k *kept) keep(now time.Time, id string, h *held) {
	k.held[id], k.bytes = keptResult{h, now.Add(cursorLife)}, k.bytes+h.bytes
	k.order = append(k.order, id)
	for len(k.order) > 1 && k.bytes > maxCursorBytes {
		k.drop(k.order[0])
	}
}

// expire drops the results whose life has ended: the oldest first, since every life is as long.
func (k *kept) expire(now time.Time) {
	for len(k.order) > 0 && !now.Before(k.held[k.order[0]].expires) {
		k.drop(k.order[0])
	}
}

func (k *kept) drop(id string) {
	if h, ok := k.held[id]; ok {
		k.bytes -= h.bytes
		delete(k.held, id)
	}
	for i, o := range k.order {
		if o == id {
			k.order = append(k.order[:i], k.order[i+1:]...)
			break
		}
	}
}

// cursorToken is what a result's next holds: the held result's id and where the page starts.
func cursorToken(id string, offset int) string { return id + "." + strconv.Itoa(offset) }

// cursorGone is what a model sees for a cursor this process no longer holds.
const cursorGone = "this next cursor has expired (a search's pages are kept for %d minutes, and not across a restart of healow); run the search again without next"

// take finds the held result a next cursor names and checks it belongs to tool.
func (c *cursors) take(ctx context.Context, tool, next string) (h *held, id string, offset int, err error) {
	id, off, ok := strings.Cut(strings.TrimSpace(next), ".")
	offset, err = strconv.Atoi(off)
	if !ok || err != nil || offset < 0 || len(id) != cursorEncoding.EncodedLen(15) {
		return nil, "", 0, fmt.Errorf("next: %s is not a next cursor of this tool; pass the next value of this tool's previous result as it was given", quote.Quote(cutText(next, 64)))
	}
	r := actor.NewReply[*held]()
	h, err = actor.Ask[cursorMsg](ctx, c.box, takeMsg{id, r}, r)
	if err != nil {
		return nil, "", 0, fmt.Errorf("next: %w", err)
	}
	switch {
	case h == nil:
		return nil, "", 0, fmt.Errorf("next: "+cursorGone, int(cursorLife/time.Minute))
	case h.tool != tool:
		return nil, "", 0, fmt.Errorf("next: this cursor pages %s's results; pass it to %s instead", h.tool, h.tool)
	case offset > len(h.entries):
		return nil, "", 0, fmt.Errorf("next: this cursor points past the end of its results (%d); run the search again without next", len(h.entries))
	}
	return h, id, offset, nil
}

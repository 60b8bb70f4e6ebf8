package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// complete reports whether the collection holds every match the practice has.
func (c *collection) complete() bool { return !c.more && c.stopped == nil }

// newestFirst orders items by clinical date, newest first; items without one come last, and
// items of the same date keep the practice's order.
func newestFirst(items []item) {
	slices.SortStableFunc(items, func(a, b item) int {
		switch az, bz := a.row.When.IsZero(), b.row.When.IsZero(); {
		case az && bz:
			return 0
		case az:
			return 1
		case bz:
			return -1
		}
		return b.row.When.Compare(a.row.When)
	})
}

// latestOfEach keeps the first (newest) item of each test, vaccine or other thing a resource is
// about; items that say nothing of what they are about are all kept.
func latestOfEach(items []item) []item {
	seen := map[string]bool{}
	out := items[:0:0]
	for _, it := range items {
		if k := it.row.Key; k != "" {
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, it)
	}
	return out
}

// matching keeps the items whose names match.
func matching(items []item, m nameMatcher) []item {
	out := items[:0:0]
	for _, it := range items {
		if m.matches(it.row.Text) {
			out = append(out, it)
		}
	}
	return out
}

// pageOf is the page of h that starts at offset: up to count entries, as rows or as the
// resources, as many as fit in a result. id is the cursor h is held under, or "" when it is not
// held yet; it is kept when a following page remains.
func (t *tools) pageOf(ctx context.Context, h *held, id string, offset, count int, full bool) pageOut {
	out := pageOut{ResourceType: h.resource, Total: h.extra.total, Withheld: h.extra.withheld, Entries: []json.RawMessage{}}
	var notes []string
	if offset == 0 && h.extra.note != "" {
		notes = append(notes, h.extra.note)
	}
	used := envelope + maxNote + len(h.extra.note)
	var skipped []string
	i := offset
	for ; i < len(h.entries) && out.Returned < count; i++ {
		e := h.entries[i].rowJ
		if full {
			e = h.entries[i].full
		}
		if used+len(e)+1 > MaxResultBytes {
			if out.Returned > 0 {
				break
			}
			// Alone it does not fit: say so and go on, so that one huge record does not stop
			// the pages after it.
			skipped = append(skipped, h.entries[i].ref)
			out.Truncated = true
			continue
		}
		used += len(e) + 1
		out.Entries = append(out.Entries, e)
		out.Returned++
	}
	if full {
		out.Included = includedBy(h.extra.included, h.entries[offset:i], MaxResultBytes-used)
	}
	if len(skipped) > 0 {
		notes = append(notes, fmt.Sprintf("%d record(s) too large for a result even alone were left out (%s); read them by id with fhir_get, or ask for detail compact.",
			len(skipped), cutText(strings.Join(skipped, ", "), quote.Max)))
	}
	if i < len(h.entries) {
		var err error
		if id == "" {
			id, err = t.cursors().keep(ctx, h)
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("Entries %d-%d of %d, newest first; the following ones cannot be paged now (%v).", offset+1, i, len(h.entries), err))
		} else {
			out.Next = cursorToken(id, i)
			notes = append(notes, fmt.Sprintf("Entries %d-%d of %d, newest first; next gives the following ones.", offset+1, i, len(h.entries)))
		}
	}
	out.Note = strings.Join(notes, " ")
	return out
}

// includedBy returns the included resources that the shown entries reference, as many as fit
// in room.
func includedBy(included []json.RawMessage, shown []item, room int) []json.RawMessage {
	var out []json.RawMessage
	for _, inc := range included {
		ref := refOf(inc)
		for _, it := range shown {
			if bytes.Contains(it.full, []byte(`"`+ref+`"`)) || bytes.Contains(it.full, []byte("/"+ref+`"`)) {
				if len(inc)+1 <= room {
					room -= len(inc) + 1
					out = append(out, inc)
				}
				break
			}
		}
	}
	return out
}

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/healow-mcp/healow-mcp/mcp/rows"
	"github.com/healow-mcp/healow-mcp/practice"
)

// How much a typed search reads before it orders: eCW offers no _sort and its order is unknown,
// so a search reads its matches' pages, up to these bounds, and orders them itself.
const (
	// maxRead is how many matches a search reads at most: about five pages of 100, a fiftieth of
	// a practice's 250 requests a minute.
	maxRead = 500
	// maxPages bounds the pages read, for a practice that ignores _count and sends small pages.
	maxPages = 25
	// maxReadBytes bounds the cleaned resources a search holds while it orders them.
	maxReadBytes = 8 << 20
	// readCount is the page size a search asks the practice for.
	readCount = MaxCount
)

// item is one matching resource read by a typed search.
type item struct {
	ref  string          // "Type/id"
	row  rows.Row        // its facts
	rowJ json.RawMessage // the row as a result shows it
	full json.RawMessage // the cleaned resource
}

// collection is what a typed search read: its matches in the practice's order, the resources the
// practice included with them, and what it could not read.
type collection struct {
	items    []item
	included []json.RawMessage
	total    *int // the practice's own count of matches, from its first page
	more     bool // the practice had pages beyond the bounds
	bytes    int
	pages    int
	stopped  error // why a page after the first could not be read
	withheld practice.Withheld
	outcomes []string
	data     int      // inline attachments left out by cleaning
	members  []string // what the practice's Bundles held that was left out
	loops    bool     // the practice's next link led back to a page already read
}

// collect reads a search's pages, from req on, up to the bounds.
func (t *tools) collect(ctx context.Context, a *practice.Actor, req practice.Request, tg target) (*collection, error) {
	c := &collection{}
	byRef := map[string]json.RawMessage{}
	resolve := func(ref string) json.RawMessage {
		// A reference may be relative (Medication/1) or absolute (https://.../Medication/1).
		return byRef[path.Base(path.Dir(ref))+"/"+path.Base(ref)]
	}
	type match struct {
		ref string
		res json.RawMessage
	}
	var matches []match
	seen := map[string]bool{}  // matches already read: a page may repeat one
	links := map[string]bool{} // next links already followed
	for {
		resp, err := t.fetch(ctx, a, req)
		if err != nil {
			if c.pages == 0 {
				return nil, t.explainFetch(ctx, a, tg, err)
			}
			c.stopped = explain(err)
			break
		}
		p, err := readPage(ctx, resp.Body)
		if err != nil {
			if c.pages == 0 {
				return nil, err
			}
			c.stopped = err
			break
		}
		c.pages++
		if c.pages == 1 {
			c.total = p.total
		}
		c.withheld = addWithheld(c.withheld, resp.Withheld)
		c.outcomes = append(c.outcomes, p.outcomes...)
		c.data += p.cleaned.data
		for _, m := range p.membersNote() {
			if !slices.Contains(c.members, m) {
				c.members = append(c.members, m)
			}
		}
		for i := range p.entries {
			res := p.resource(i)
			if res == nil {
				continue
			}
			c.bytes += len(res)
			switch p.modes[i] {
			case "match":
				if seen[p.refs[i]] {
					continue
				}
				seen[p.refs[i]] = true
				matches = append(matches, match{p.refs[i], res})
			case "include":
				c.included = append(c.included, res)
				byRef[p.refs[i]] = res
			}
		}
		progressFrom(ctx).Page(a, tg.resource, c.pages, len(matches))
		if p.next == "" {
			break
		}
		if links[p.next] {
			c.loops = true
			break
		}
		links[p.next] = true
		if len(matches) >= maxRead || c.pages >= maxPages || c.bytes >= maxReadBytes {
			c.more = true
			break
		}
		req = practice.Request{Next: p.next}
	}
	c.items = make([]item, len(matches))
	err := inParallel(len(matches), func(i int) error {
		m := matches[i]
		r := rows.Of(m.res, resolve)
		j, err := r.JSON()
		if err != nil {
			return fmt.Errorf("a row could not be written: %w", err)
		}
		c.items[i] = item{ref: m.ref, row: r, rowJ: j, full: m.res}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// inParallel calls f for 0 to n-1, in runs of consecutive indexes spread over the CPUs, and
// returns what failed. Building a row decodes its resource with encoding/json, tens of
// microseconds each: for the hundreds of matches a search may read, the time the model waits
// for is a CPU's share of that, not the sum. A panic in f is an error, as recoverPanics makes
// it on the handler's own goroutine: no answer a practice sends may stop the server.
func inParallel(n int, f func(i int) error) error {
	const least = 8 // fewer rows than this a run are not worth a goroutine
	runs := min(runtime.GOMAXPROCS(0), (n+least-1)/least)
	if runs <= 1 {
		for i := range n {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for r := range runs {
		wg.Go(func() {
			defer func() {
				if recover() != nil {
					// The stack shows where, not what: no patient data is in it.
					slog.Error("panic while building a row", "stack", string(debug.Stack()))
					errs[r] = errors.New("internal error in healow-mcp while writing rows (please report it); the server is still running, so try again or ask for detail full")
				}
			}()
			for i := r * n / runs; i < (r+1)*n/runs && errs[r] == nil; i++ {
				errs[r] = f(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func addWithheld(a, b practice.Withheld) practice.Withheld {
	return practice.Withheld{OtherPatient: a.OtherPatient + b.OtherPatient, OtherType: a.OtherType + b.OtherType, Unverified: a.Unverified + b.Unverified}
}

func refOf(res json.RawMessage) string {
	var h struct{ ResourceType, ID string }
	json.Unmarshal(res, &h)
	return h.ResourceType + "/" + h.ID
}

// note says what the read left out, in words a model acts on.
func (c *collection) note() string {
	var s []string
	if c.more {
		s = append(s, fmt.Sprintf("The practice holds more matches than the %d read (it does not say in which order it sends them), so older or newer ones may be missing here: narrow the search with a date range to see all of a period.",
			len(c.items)))
	}
	if c.stopped != nil {
		s = append(s, fmt.Sprintf("Only the first %d page(s) could be read, so later matches may be missing: %s.", c.pages, strings.TrimSuffix(c.stopped.Error(), ".")))
	}
	if c.data > 0 {
		s = append(s, fmt.Sprintf("%d inline base64 attachment(s) larger than %d KiB were left out.", c.data, maxInlineData>>10))
	}
	if len(c.outcomes) > 0 {
		s = append(s, "The practice said: "+practice.RedactOutcome(strings.Join(c.outcomes, "; "))+".")
	}
	s = append(s, c.members...)
	if c.loops {
		s = append(s, "The practice's next link led back to a page already read, so reading stopped there.")
	}
	if w := c.withheld.String(); w != "" {
		s = append(s, w)
	}
	return strings.Join(s, " ")
}

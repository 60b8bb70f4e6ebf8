package mcp

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// paging is what every typed search and list tool takes besides its own search fields.
type paging struct {
	Practice string `json:"practice,omitempty"`
	Detail   detail `json:"detail,omitempty"`
	Count    int    `json:"count,omitempty" minimum:"1" maximum:"100"`
	Next     string `json:"next,omitempty"`
}

func (p paging) pagingArgs() paging { return p }

// pager is an input that embeds paging.
type pager interface{ pagingArgs() paging }

// searchTool describes one typed search or list tool.
type searchTool[In pager] struct {
	name, title, resource, description string
	// build turns the tool's own fields into search parameters on q.
	build func(in In, q *query)
}

// addSearch registers a typed search tool: validation, scoping to the connected patient,
// ordering, paging and output bounding are the same for all of them; only the fields differ.
func addSearch[In pager](t *tools, s *sdk.Server, st searchTool[In]) {
	addTool(t, s, &sdk.Tool{
		Name:         st.name,
		Description:  st.description + searchHelp,
		InputSchema:  schemaFor[In](),
		OutputSchema: outputSchema[pageOut](t),
		Annotations:  readOnly(st.title),
	}, func(ctx context.Context, _ *sdk.CallToolRequest, in In) (*sdk.CallToolResult, pageOut, error) {
		q := newQuery(st.resource)
		if st.build != nil {
			st.build(in, q)
		}
		out, err := t.typedSearch(ctx, st.name, in.pagingArgs(), q)
		if err != nil {
			return nil, pageOut{}, err
		}
		return nil, out, nil
	})
}

// typedSearch answers a typed search: its first page, read, ordered newest first and kept for
// the pages after it, or a following page of a result kept before.
func (t *tools) typedSearch(ctx context.Context, tool string, pg paging, q *query) (pageOut, error) {
	full, err := wantFull(string(pg.Detail))
	if err != nil {
		return pageOut{}, err
	}
	count, err := pageSize("count", pg.Count)
	if err != nil {
		return pageOut{}, err
	}
	if pg.Next != "" {
		return t.followingPage(ctx, tool, pg, q, count, full)
	}
	if err := q.err(); err != nil {
		return pageOut{}, err
	}
	a, err := t.reg.Lookup(ctx, pg.Practice)
	if err != nil {
		return pageOut{}, explain(err)
	}
	info, err := a.Info(ctx)
	if err != nil {
		return pageOut{}, explain(err)
	}
	h, err := t.read(ctx, a, q)
	if err != nil {
		return pageOut{}, err
	}
	h.tool, h.practiceID, h.patientID, h.resource = tool, a.ID(), info.PatientID, q.resource
	if q.category != "" {
		h.extra.note = strings.TrimSpace(h.extra.note + " " + t.categoryNote(ctx, a, q))
	}
	out := t.pageOf(ctx, h, "", 0, count, full)
	out.Note = strings.TrimSpace(out.Note + " " + t.healthNote(ctx, a))
	return out, nil
}

// followingPage answers a next cursor: a page of a result read before, for the same practice
// and patient.
func (t *tools) followingPage(ctx context.Context, tool string, pg paging, q *query, count int, full bool) (pageOut, error) {
	if err := nextAlone(q); err != nil {
		return pageOut{}, err
	}
	h, id, offset, err := t.cursors().take(ctx, tool, pg.Next)
	if err != nil {
		return pageOut{}, err
	}
	key := pg.Practice
	if key == "" {
		key = h.practiceID
	}
	a, err := t.reg.Lookup(ctx, key)
	if err != nil {
		return pageOut{}, explain(err)
	}
	if a.ID() != h.practiceID {
		return pageOut{}, fmt.Errorf("next: this cursor pages another practice's results; give it alone or with the practice it came from")
	}
	info, err := a.Info(ctx)
	if err != nil {
		return pageOut{}, explain(err)
	}
	if info.PatientID != h.patientID {
		return pageOut{}, fmt.Errorf("next: %q was connected again, for another patient, since this search; run the search again without next", info.Name)
	}
	out := t.pageOf(ctx, h, id, offset, count, full)
	out.Note = strings.TrimSpace(out.Note + " " + t.healthNote(ctx, a))
	return out, nil
}

// nextAlone refuses search fields given with a next cursor, which carries its search already:
// they would be silently ignored.
func nextAlone(q *query) error {
	given := q.given
	if q.latest {
		given = append(given, "latest")
	}
	if len(given) == 0 {
		return nil
	}
	return fmt.Errorf("next: the cursor already carries its search, so drop the other search fields (%s); only count, detail and practice may accompany it", strings.Join(given, ", "))
}

// wantFull reads the detail field.
func wantFull(detail string) (bool, error) {
	switch strings.TrimSpace(detail) {
	case "", "compact":
		return false, nil
	case "full":
		return true, nil
	}
	return false, fmt.Errorf("detail: %s is not compact or full", quote.Quote(cutText(detail, 64)))
}

// read reads a search's matches, orders them newest first and keeps what the tool asked for
// (the results of a named test, the latest of each).
func (t *tools) read(ctx context.Context, a *practice.Actor, q *query) (*held, error) {
	params := url.Values{}
	for k, v := range q.params {
		params[k] = v
	}
	for k, v := range q.fixed {
		params[k] = v
	}
	params.Set("_count", strconv.Itoa(readCount))
	tg := target{resource: q.resource, category: q.category}
	c, err := t.collect(ctx, a, practice.Request{Resource: q.resource, Params: params}, tg)
	if err != nil {
		return nil, err
	}
	items, match := c.items, q.match
	var notes []string
	if q.mapped != nil && len(items) == 0 && c.complete() {
		// The practice may record the test under codes of its own: look again by name.
		params.Del("code")
		again, err := t.collect(ctx, a, practice.Request{Resource: q.resource, Params: params}, tg)
		if err == nil {
			c, items, match = again, again.items, &nameMatcher{any: q.mapped.words}
			notes = append(notes, fmt.Sprintf("No result carries the LOINC codes of %s, so results are matched by their names instead (%s).",
				quote.Quote(q.name), strings.Join(q.mapped.words, ", ")))
		}
	}
	if match != nil {
		items = matching(items, *match)
	}
	newestFirst(items)
	if q.latest {
		items = latestOfEach(items)
	}
	h := &held{entries: items}
	h.extra.included = c.included
	h.extra.withheld = c.withheld.Total()
	if c.complete() {
		n := len(items)
		h.extra.total = &n
	} else if match == nil && !q.latest {
		h.extra.total = c.total
	}
	h.extra.note = strings.TrimSpace(strings.Join(append(notes, c.note()), " "))
	for _, it := range items {
		h.bytes += len(it.rowJ) + len(it.full)
	}
	return h, nil
}

// categoryNote warns when no granted scope covers the category searched: eCW then leaves such
// records out of a search rather than refusing it, which would read as "none".
func (t *tools) categoryNote(ctx context.Context, a *practice.Actor, q *query) string {
	info, err := a.Info(ctx)
	if err != nil || smart.ScopeFor(info.Scopes, q.resource, q.category) != "" {
		return ""
	}
	if info.Requestable != nil && !offers(info.Requestable, target{resource: q.resource, category: q.category}) {
		return fmt.Sprintf("%q does not offer this app access to %s in category %s (its SMART configuration lists no such scope), so it may leave such records out; connecting again would not change that.",
			info.Name, q.resource, q.category)
	}
	return fmt.Sprintf("None of the scopes granted by %q covers %s in category %s, so the practice may leave such records out. To include them, %s and allow %s.",
		info.Name, q.resource, q.category, t.reg.Install().Reconnect(info.Name, info.FHIRBaseURL), smart.ScopeHint(q.resource, q.category))
}

// pageSize checks a requested page size; 0 means the default.
func pageSize(field string, n int) (int, error) {
	switch {
	case n == 0:
		return DefaultCount, nil
	case n < 1 || n > MaxCount:
		return 0, fmt.Errorf("%s: %d is out of range; ask for 1 to %d entries a page", field, n, MaxCount)
	}
	return n, nil
}

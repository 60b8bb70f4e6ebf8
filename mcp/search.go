package mcp

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// paging is what every typed search and list tool takes besides its own search fields.
type paging struct {
	Practice string `json:"practice,omitempty"`
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
// paging and output bounding are the same for all of them; only the fields differ.
func addSearch[In pager](t *tools, s *sdk.Server, st searchTool[In]) {
	addTool(t, s, &sdk.Tool{
		Name:         st.name,
		Title:        st.title,
		Description:  st.description + searchHelp,
		InputSchema:  schemaFor[In](),
		OutputSchema: schemaFor[pageOut](),
		Annotations:  readOnly(st.title),
	}, func(ctx context.Context, _ *sdk.CallToolRequest, in In) (*sdk.CallToolResult, pageOut, error) {
		q := newQuery(st.resource)
		if st.build != nil {
			st.build(in, q)
		}
		out, err := t.runSearch(ctx, in.pagingArgs(), q)
		if err != nil {
			return nil, pageOut{}, err
		}
		return jsonResult(out), out, nil
	})
}

// runSearch checks paging against the query, fetches one page and shapes it.
func (t *tools) runSearch(ctx context.Context, pg paging, q *query) (pageOut, error) {
	if err := q.err(); err != nil {
		return pageOut{}, err
	}
	req := practice.Request{Resource: q.resource, Params: q.params}
	if pg.Next != "" {
		if err := nextAlone(pg, q); err != nil {
			return pageOut{}, err
		}
		req = practice.Request{Next: pg.Next}
	} else {
		count, err := pageSize("count", pg.Count)
		if err != nil {
			return pageOut{}, err
		}
		for k, v := range q.fixed {
			req.Params[k] = v
		}
		req.Params.Set("_count", strconv.Itoa(count))
	}
	a, err := t.reg.Lookup(ctx, pg.Practice)
	if err != nil {
		return pageOut{}, explain(err)
	}
	tg := target{resource: q.resource, category: q.category}
	p, asked, err := t.fetchPage(ctx, a, req, tg)
	if err != nil {
		return pageOut{}, err
	}
	out := pageOut{
		ResourceType: q.resource,
		Total:        p.total,
		Entries:      p.resources("match"),
		Next:         p.next,
		Truncated:    p.cut(),
		Withheld:     p.withheld.Total(),
		Note:         p.note("count", asked),
	}
	out.Returned = len(out.Entries)
	if inc := p.resources("include"); len(inc) > 0 {
		out.Included = inc
	}
	if q.category != "" {
		out.Note = strings.TrimSpace(out.Note + " " + t.categoryNote(ctx, a, q))
	}
	return out, nil
}

// nextAlone refuses a next link given with search fields, which it would silently ignore, or
// with a link that pages another resource type than the tool's.
func nextAlone(pg paging, q *query) error {
	if pg.Count != 0 {
		return fmt.Errorf("count: not used with next, whose link keeps the page size of the first page")
	}
	if len(q.params) > 0 {
		names := make([]string, 0, len(q.params))
		for k := range q.params {
			names = append(names, k)
		}
		return fmt.Errorf("next: give next alone (practice may accompany it); it already carries the search, so drop the other fields (%s)", strings.Join(names, ", "))
	}
	if u, err := url.Parse(pg.Next); err == nil {
		if last := path.Base(u.Path); fhir.IsResourceType(last) && last != q.resource {
			return fmt.Errorf("next: this link pages %s, not %s; pass it to the %s search instead", last, q.resource, last)
		}
	}
	return nil
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

// fetchPage fetches one searchset page and bounds it. A first page cut to fit is asked again
// once with _count set to what fit, so that its next link continues right after the last entry
// shown and nothing is skipped; it reports that page size as asked. A page reached through a
// next link cannot be re-asked that way (its link is the server's), nor one from a practice that
// ignores _count (it sent more matches than asked), so their notes say what was left out.
func (t *tools) fetchPage(ctx context.Context, a *practice.Actor, req practice.Request, tg target) (*page, int, error) {
	resp, err := t.fetch(ctx, a, req)
	if err != nil {
		return nil, 0, t.explainFetch(ctx, a, tg, err)
	}
	p, err := readPage(ctx, resp.Body)
	if err != nil {
		return nil, 0, err
	}
	p.withheld = resp.Withheld
	fit := p.matchesKept()
	if !p.cut() || req.Next != "" || fit == 0 {
		return p, 0, nil
	}
	// A practice that sent more matches than the page size asked ignores it: asking again with a
	// smaller one would fetch as much again, for nothing.
	if asked, err := strconv.Atoi(req.Params.Get("_count")); err == nil && p.matches() > asked {
		p.countIgnored = asked
		return p, 0, nil
	}
	resp.Release() // done with: its budget goes to the page asked again
	again := req
	again.Params = url.Values{}
	for k, v := range req.Params {
		again.Params[k] = v
	}
	again.Params.Set("_count", strconv.Itoa(fit))
	resp, err = t.fetch(ctx, a, again)
	if err != nil {
		return nil, 0, t.explainFetch(ctx, a, tg, err)
	}
	if p, err = readPage(ctx, resp.Body); err != nil {
		return nil, 0, err
	}
	p.withheld = resp.Withheld
	return p, fit, nil
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
	return fmt.Sprintf("None of the scopes granted by %q covers %s in category %s, so the practice may leave such records out. To include them, run `healow connect --name %q --fhir-base-url %s` (or connect_practice) again and allow %s.",
		info.Name, q.resource, q.category, info.Name, info.FHIRBaseURL, smart.ScopeHint(q.resource, q.category))
}

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

type getIn struct {
	Practice string `json:"practice,omitempty"`
	Resource string `json:"resource" jsonschema:"a FHIR R4 resource type, e.g. Patient"`
	ID       string `json:"id"`
}

type searchIn struct {
	Practice string                  `json:"practice,omitempty"`
	Resource string                  `json:"resource,omitempty" jsonschema:"a FHIR R4 resource type, e.g. Observation"`
	Params   map[string]SearchValues `json:"params,omitempty" jsonschema:"e.g. {\"date\": [\"ge2024-01-01\", \"le2024-12-31\"], \"_count\": \"50\"}"`
	Next     string                  `json:"next,omitempty" jsonschema:"the Bundle's link next url; give it alone"`
}

// SearchValues is one search parameter's values: JSON accepts a string or a list of strings.
type SearchValues []string

// UnmarshalJSON takes "v" as well as ["v1", "v2"].
func (v *SearchValues) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = SearchValues{one}
		return nil
	}
	var many []*string // a null item is refused, not taken for ""
	if err := json.Unmarshal(b, &many); err != nil || slices.Contains(many, nil) {
		return errors.New("a search parameter's value must be a string or a list of strings")
	}
	*v = make(SearchValues, len(many))
	for i, s := range many {
		(*v)[i] = *s
	}
	return nil
}

func (t *tools) addFHIR(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:        "fhir_get",
		Description: "Any FHIR R4 resource by type and id, raw, narrative removed. Prefer a typed tool; get_binary for a Binary's content.",
		Annotations: readOnly("Raw FHIR read"),
	}, t.get)
	addTool(t, s, &sdk.Tool{
		Name: "fhir_search",
		Description: "Searches any FHIR R4 resource type, raw (a Bundle); records of patient data are limited to the patient's. " +
			"Prefer a typed tool. category takes system|code here.",
		InputSchema: schemaFor[searchIn](),
		Annotations: readOnly("Raw FHIR search"),
	}, t.search)
}

func (t *tools) get(ctx context.Context, _ *sdk.CallToolRequest, in getIn) (*sdk.CallToolResult, any, error) {
	req := practice.Request{Resource: in.Resource, ID: in.ID}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, nil, explain(err)
	}
	res, err := t.readOne(ctx, a, target{resource: in.Resource, id: in.ID}, req)
	if err != nil {
		return nil, nil, err
	}
	return textResult(string(res.Resource), res.Note), nil, nil
}

func (t *tools) search(ctx context.Context, _ *sdk.CallToolRequest, in searchIn) (*sdk.CallToolResult, any, error) {
	req := practice.Request{Resource: in.Resource, Next: in.Next}
	if len(in.Params) > 0 {
		req.Params = url.Values{}
		for k, v := range in.Params {
			req.Params[k] = v
		}
	}
	if err := req.Validate(); err != nil {
		return nil, nil, err
	}
	if in.Next == "" {
		n := 0
		if c := req.Params.Get("_count"); c != "" {
			var err error
			if n, err = strconv.Atoi(c); err != nil || n < 1 {
				return nil, nil, fmt.Errorf("params._count: %s is not a page size; ask for 1 to %d entries a page", quote.Quote(c), MaxCount)
			}
		}
		n, err := pageSize("params._count", n)
		if err != nil {
			return nil, nil, err
		}
		if req.Params == nil {
			req.Params = url.Values{}
		}
		req.Params.Set("_count", strconv.Itoa(n))
	}
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, nil, explain(err)
	}
	p, asked, err := t.fetchPage(ctx, a, req, target{resource: resourceOf(req)})
	if err != nil {
		return nil, nil, err
	}
	return textResult(string(p.bundle()), strings.TrimSpace(p.note("_count", asked)+" "+t.healthNote(ctx, a))), nil, nil
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
	progressFrom(ctx).Page(a, resourceOf(req), 1, p.matches())
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
	progressFrom(ctx).Step(fmt.Sprintf("the page is too large for one result: asking the practice again for %d entries", fit))
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

// readOne reads one resource and bounds it.
func (t *tools) readOne(ctx context.Context, a *practice.Actor, tg target, req practice.Request) (resourceOut, error) {
	resp, err := t.fetch(ctx, a, req)
	if err != nil {
		return resourceOut{}, t.explainFetch(ctx, a, tg, err)
	}
	raw, c, err := readResource(ctx, resp.Body)
	if err != nil {
		return resourceOut{}, fmt.Errorf("%s: %w", tg, err)
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	// What the practice answers goes to the model as the record asked for, so it must be one.
	if raw[0] != '{' {
		return resourceOut{}, fmt.Errorf("%s: the practice's answer is not a FHIR resource: it is not a JSON object", tg)
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return resourceOut{}, fmt.Errorf("%s: the practice's answer is not a well-formed FHIR resource: %s", tg, jsonscan.Why(err))
	}
	switch {
	case head.ResourceType == "":
		return resourceOut{}, fmt.Errorf("%s: the practice's answer is not a FHIR resource (it names no resourceType)", tg)
	case tg.resource != "" && head.ResourceType != tg.resource:
		return resourceOut{}, fmt.Errorf("the practice answered %s with a %s, which is left out: it is not what was asked for", tg, cutText(head.ResourceType, quote.Max))
	}
	out := resourceOut{ResourceType: head.ResourceType, ID: cutText(head.ID, quote.Max), Resource: raw}
	if c.data > 0 {
		out.Note = fmt.Sprintf("%d inline base64 attachment(s) larger than %d KiB were left out.", c.data, maxInlineData>>10)
		if tg.resource == "Binary" {
			out.Note += " Use get_binary to read a Binary's content."
		}
	}
	out.Note = strings.TrimSpace(out.Note + " " + t.healthNote(ctx, a))
	return out, nil
}

// textResult is a tool result of FHIR JSON, followed by a note when there is one.
func textResult(body, note string) *sdk.CallToolResult {
	res := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: body}}}
	if note != "" {
		res.Content = append(res.Content, &sdk.TextContent{Text: "healow-mcp: " + note})
	}
	return res
}

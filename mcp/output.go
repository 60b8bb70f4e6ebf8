package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

// What one tool result may hold. Every tool that returns FHIR goes through this file, so these
// numbers are the whole story; README and instructions.md repeat them.
const (
	// DefaultCount is the page size (_count) a search asks for when the caller names none.
	DefaultCount = 20
	// MaxCount is the largest page size a caller may ask for.
	MaxCount = 100
	// MaxResultBytes caps the text of one tool result, everything a model reads of it: the FHIR
	// JSON after narratives are removed, and what the result says around it.
	MaxResultBytes = 64 << 10
	// maxInlineData is the longest inline base64 data (Attachment.data) a result keeps.
	maxInlineData = 8 << 10
	// envelope is room kept for what a result says around its entries.
	envelope = 2 << 10
)

// page is one searchset Bundle, cleaned and cut to fit MaxResultBytes.
type page struct {
	fields   []field           // the Bundle's members, cleaned, for fhir_search's raw answer
	entries  []json.RawMessage // the Bundle's entries, cleaned, in order
	res      []json.RawMessage // each entry's resource, or nil
	modes    []string          // search.mode of each entry ("match", "include", "outcome")
	refs     []string          // "Type/id" of each entry's resource
	total    *int
	next     string
	kept     int // how many entries fit
	cleaned  cleaned
	outcomes []string          // what OperationOutcome entries say
	withheld practice.Withheld // what the actor left out as not the patient's

	droppedMembers []string // Bundle members left out to fit, with their sizes
	longNext       int      // the length of a next link too long to follow, which was dropped
	countIgnored   int      // the _count the practice ignored, when it sent more matches
}

// readPage cleans a searchset Bundle and works out how many of its entries fit.
func readPage(ctx context.Context, body []byte) (*page, error) {
	p := &page{}
	raw, err := clean(ctx, body, &p.cleaned)
	if err != nil {
		return nil, answerError(err)
	}
	// clean has checked that raw is JSON, so the quick scanner splits it; members are matched as
	// encoding/json and the actor's check match them, without regard to case.
	if p.fields, err = objectFields(raw); err != nil {
		return nil, fmt.Errorf("the practice's answer is not a JSON object: %w", err)
	}
	// Parsers disagree on which of two equal keys counts; the model must see what was counted.
	seen := map[string]bool{}
	var resourceType string
	var entries json.RawMessage
	for _, f := range p.fields {
		k := jsonscan.Fold(f.key)
		if seen[k] {
			return nil, fmt.Errorf("the practice's Bundle is malformed: it has %s twice", quote.Quote(f.key))
		}
		seen[k] = true
		var err error
		switch {
		case is(f.key, "resourceType"):
			err = member("resourceType", f.value, &resourceType)
		case is(f.key, "total"):
			err = member("total", f.value, &p.total)
		case is(f.key, "link"):
			var links []struct {
				Relation string `json:"relation"`
				URL      string `json:"url"`
			}
			err = member("link", f.value, &links)
			for _, l := range links {
				if l.Relation == "next" {
					p.next = l.URL
				}
			}
		case is(f.key, "entry"):
			if string(f.value) != "null" && f.value[0] != '[' {
				err = member("entry", f.value, new([]json.RawMessage)) // says what it is instead
			}
			entries = f.value
		}
		if err != nil {
			return nil, fmt.Errorf("the practice's Bundle is malformed: %w", err)
		}
	}
	if resourceType != "Bundle" {
		return nil, fmt.Errorf("the practice answered with a %s where a search Bundle was expected", quote.Quote(resourceType))
	}
	if p.total != nil && *p.total < 0 {
		return nil, fmt.Errorf("the practice's Bundle is malformed: its total is %d", *p.total)
	}
	if len(entries) > 0 && entries[0] == '[' {
		if err := jsonscan.Elements(entries, func(e []byte) { p.entries = append(p.entries, e) }); err != nil {
			return nil, fmt.Errorf("the practice's Bundle is malformed: %w", err)
		}
	}
	for i, e := range p.entries {
		if err := p.readEntry(e); err != nil {
			return nil, fmt.Errorf("entry %d of the practice's Bundle %w", i+1, err)
		}
	}
	p.fit()
	return p, nil
}

// readEntry notes what one entry of a Bundle is: its resource, its search mode, and what an
// OperationOutcome among them says.
func (p *page) readEntry(e json.RawMessage) error {
	// An entry that is not an object, or whose resource is not one, would reach the model (and
	// the output schema) as something other than a FHIR resource.
	if len(e) == 0 || e[0] != '{' {
		return errors.New("is not a JSON object")
	}
	var resource json.RawMessage
	mode := ""
	err := eachMember(e, func(key string, v []byte) error {
		switch {
		case is(key, "resource"):
			resource = v
		case is(key, "search") && v[0] == '{':
			return eachMember(v, func(key string, v []byte) error {
				if is(key, "mode") {
					return member("search.mode", v, &mode)
				}
				return nil
			})
		case is(key, "search"):
			return member("search", v, &struct{}{}) // null, or says what it is instead
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("is malformed: %w", err)
	}
	var typ, id string
	var issues []struct {
		Severity    string `json:"severity"`
		Diagnostics string `json:"diagnostics"`
	}
	switch {
	case len(resource) == 0 || string(resource) == "null":
		resource = nil
	case resource[0] != '{':
		return errors.New("holds a resource that is not a JSON object")
	default:
		err := eachMember(resource, func(key string, v []byte) error {
			switch {
			case is(key, "resourceType"):
				return member("resource.resourceType", v, &typ)
			case is(key, "id"):
				return member("resource.id", v, &id)
			case is(key, "issue"):
				return member("resource.issue", v, &issues)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("is malformed: %w", err)
		}
		if typ == "" {
			return errors.New("holds a resource without a resourceType")
		}
	}
	p.res = append(p.res, resource)
	if mode == "" {
		mode = "match"
	}
	if typ == "OperationOutcome" {
		mode = "outcome"
		for _, is := range issues {
			p.outcomes = append(p.outcomes, strings.TrimSpace(is.Severity+": "+is.Diagnostics))
		}
	}
	p.modes = append(p.modes, mode)
	p.refs = append(p.refs, typ+"/"+id)
	return nil
}

// is matches a member's key as encoding/json matches a field's name: without regard to case.
func is(key, name string) bool { return jsonscan.Same(key, name) }

// member decodes one member's value into v, saying in FHIR's words what is wrong with it.
func member(name string, raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			te.Field = name
		} else if errors.As(err, &te) {
			te.Field = name + "." + te.Field
		}
		return errors.New(jsonscan.Why(err))
	}
	return nil
}

// eachMember calls f with each member of the object b, stopping at f's first error.
func eachMember(b []byte, f func(key string, value []byte) error) error {
	var first error
	err := jsonscan.Members(b, func(k string, v []byte) {
		if first == nil {
			first = f(k, v)
		}
	})
	if err != nil {
		return err
	}
	return first
}

// fit keeps entries, in order, while the result stays under MaxResultBytes with everything
// around them: the Bundle's other members, the next link and the note.
func (p *page) fit() {
	p.boundMembers()
	used := envelope + maxNote + jsonLen(p.next)
	for _, f := range p.fields {
		if f.key != "entry" {
			used += len(f.key) + len(f.value) + 4
		}
	}
	p.kept = 0
	for _, e := range p.entries {
		used += len(e) + 1
		if used > MaxResultBytes {
			return
		}
		p.kept++
	}
}

func (p *page) cut() bool { return p.kept < len(p.entries) }

// matchesKept counts the kept entries that matched the search, the page size that fits.
func (p *page) matchesKept() int {
	n := 0
	for _, m := range p.modes[:p.kept] {
		if m == "match" {
			n++
		}
	}
	return n
}

// resources returns the kept entries' resources with the given search mode.
func (p *page) resources(mode string) []json.RawMessage {
	out := []json.RawMessage{}
	for i := range p.entries[:p.kept] {
		if p.modes[i] != mode {
			continue
		}
		if r := p.resource(i); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// resource returns entry i's resource, or nil when it has none.
func (p *page) resource(i int) json.RawMessage { return p.res[i] }

// bundle is the cleaned Bundle with only the kept entries, for fhir_search.
func (p *page) bundle() json.RawMessage {
	fields := make([]field, 0, len(p.fields))
	for _, f := range p.fields {
		if f.key == "entry" {
			if p.kept == 0 {
				continue
			}
			var b strings.Builder
			b.WriteByte('[')
			for i, e := range p.entries[:p.kept] {
				if i > 0 {
					b.WriteByte(',')
				}
				b.Write(e)
			}
			b.WriteByte(']')
			f.value = json.RawMessage(b.String())
		}
		fields = append(fields, f)
	}
	return joinFields(fields)
}

// note says, in words a model acts on, what this page left out and how to get it. countName
// is what the caller calls the page size: count for the typed tools, _count for fhir_search.
// asked is the page size the search was repeated with to fit, or 0.
func (p *page) note(countName string, asked int) string {
	var s []string
	if asked > 0 {
		s = append(s, fmt.Sprintf("These entries are large, so the page was asked again with %s=%d to fit the %d KiB a result may hold; next continues right after the last entry shown.",
			countName, asked, MaxResultBytes>>10))
	}
	if p.cut() {
		dropped := len(p.entries) - p.kept
		if p.kept == 0 {
			s = append(s, fmt.Sprintf("The first entry (%s) alone is larger than the %d KiB a result may hold, even without its narrative, so this page shows nothing; read other entries by id, or narrow the search.",
				cutText(p.refs[0], quote.Max), MaxResultBytes>>10))
		} else {
			again := fmt.Sprintf("run the search again from its start with %s=%d, or narrow it", countName, max(p.matchesKept(), 1))
			if p.countIgnored > 0 {
				again = fmt.Sprintf("narrow the search (a date range, a category): the practice sent %d matches where %s=%d asked for fewer, so it ignores the page size", p.matches(), countName, p.countIgnored)
			}
			s = append(s, fmt.Sprintf("Only the first %d of this page's %d entries fit in the %d KiB a result may hold; the %d left out start with %s. next skips them: to see them, %s.",
				p.kept, len(p.entries), MaxResultBytes>>10, dropped, cutText(p.refs[p.kept], quote.Max), again))
		}
	}
	if p.cleaned.data > 0 {
		s = append(s, fmt.Sprintf("%d inline base64 attachment(s) larger than %d KiB were left out.", p.cleaned.data, maxInlineData>>10))
	}
	if len(p.outcomes) > 0 {
		// The practice's words, like an error's: credentials it echoed redacted, cut at 300 bytes.
		s = append(s, "The practice said: "+practice.RedactOutcome(strings.Join(p.outcomes, "; "))+".")
	}
	s = append(s, p.membersNote()...)
	if w := p.withheld.String(); w != "" {
		s = append(s, w)
	}
	return strings.Join(s, " ")
}

// readResource cleans one resource and checks it fits.
func readResource(ctx context.Context, body []byte) (json.RawMessage, cleaned, error) {
	var c cleaned
	raw, err := clean(ctx, body, &c)
	if err != nil {
		return nil, c, answerError(err)
	}
	if len(raw) > resourceRoom {
		return nil, c, fmt.Errorf("the resource is %d KiB even without its narrative, more than the %d KiB a resource may take in a result", len(raw)>>10, resourceRoom>>10)
	}
	return raw, c, nil
}

// pageOut is what every typed search and list tool returns.
type pageOut struct {
	ResourceType string            `json:"resource_type" jsonschema:"the FHIR resource type searched"`
	Total        *int              `json:"total,omitempty" jsonschema:"how many resources match in all, when the practice says"`
	Returned     int               `json:"returned" jsonschema:"how many matching resources this page holds"`
	Entries      []json.RawMessage `json:"entries" jsonschema:"the matching FHIR R4 resources, narratives (text.div) removed"`
	Included     []json.RawMessage `json:"included,omitempty" jsonschema:"resources the matches reference, when the tool asked for them"`
	Next         string            `json:"next,omitempty" jsonschema:"the link to the following page: call the same tool again with only next (and practice) set to it; absent on the last page"`
	Truncated    bool              `json:"truncated" jsonschema:"true when entries of this page were left out to stay under the size cap; note says how to see them"`
	Withheld     int               `json:"withheld,omitempty" jsonschema:"records the practice returned that were left out because they are not the connected patient's (or not of the type searched); note says which"`
	Note         string            `json:"note,omitempty" jsonschema:"what was left out or adjusted, and what to do about it"`
}

// resourceOut is what every typed read returns.
type resourceOut struct {
	ResourceType string          `json:"resource_type"`
	ID           string          `json:"id"`
	Resource     json.RawMessage `json:"resource" jsonschema:"the FHIR R4 resource, narrative (text.div) removed"`
	Note         string          `json:"note,omitempty" jsonschema:"what was left out, if anything"`
}

// The words every typed search and read description ends with, once per tool in the list a
// client sends with every model turn: each byte here costs 17 (searchHelp) or 3 (readHelp) in
// the tool list. What a result holds, its caps and how paging goes are said once, in
// instructions.md, and a result shows them itself (next, truncated, note); so these are empty.
const (
	searchHelp = ""
	readHelp   = ""
)

package mcp

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// query is what a typed search tool asks of a practice: a resource type and its search
// parameters, built field by field from the tool's input. Each bad field adds an error that
// names it and the rule it broke; err joins them all, so the model fixes everything at once.
type query struct {
	resource string
	params   url.Values // from the caller's fields
	fixed    url.Values // what the tool itself always asks, e.g. list_problems' category
	category string     // the friendly category searched, for scope hints
	errs     []error

	given  []string     // the caller's fields that were set, by their names in the tool
	name   string       // what the caller named the test, when it did
	mapped *namedTest   // the test that name maps to, searched by its codes
	match  *nameMatcher // results' names must match this: a name that maps to no codes
	latest bool         // keep only the most recent result of each test
}

func newQuery(resource string) *query {
	return &query{resource: resource, params: url.Values{}, fixed: url.Values{}}
}

func (q *query) fail(field, format string, a ...any) {
	q.errs = append(q.errs, fmt.Errorf("%s: "+format, append([]any{field}, a...)...))
}

func (q *query) err() error { return errors.Join(q.errs...) }

// set records that the caller gave field.
func (q *query) set(field, v string) {
	if v != "" {
		q.given = append(q.given, field)
	}
}

// FHIR date and dateTime as search values take them, without a prefix.
var datePattern = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?)?)?$`)

const dateRule = "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with an optional zone (Z or +hh:mm), without a prefix such as ge"

// dates adds a range on param: from becomes ge<from> and to le<to>, both inclusive.
func (q *query) dates(param, fromField, from, toField, to string) {
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	q.set(fromField, from)
	q.set(toField, to)
	ok := true
	for _, d := range []struct{ field, v string }{{fromField, from}, {toField, to}} {
		if d.v != "" && !datePattern.MatchString(d.v) {
			q.fail(d.field, "%s is not a date: %s", quote.Quote(d.v), dateRule)
			ok = false
		}
	}
	if ok && from != "" && to != "" {
		n := min(len(from), len(to))
		if from[:n] > to[:n] {
			q.fail(fromField, "%s is after %s %s", from, toField, to)
		}
	}
	if from != "" {
		q.params.Add(param, "ge"+from)
	}
	if to != "" {
		q.params.Add(param, "le"+to)
	}
}

// instant adds param=<v> for an instant such as _since.
func (q *query) instant(param, field, v string) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	q.set(field, v)
	if !datePattern.MatchString(v) {
		q.fail(field, "%s is not a date: %s", quote.Quote(v), dateRule)
		return
	}
	q.params.Add(param, v)
}

// token adds a token search: "code" or "system|code", several separated by commas (any of
// them matches).
func (q *query) token(param, field, v string) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	q.set(field, v)
	var alts []string
	for alt := range strings.SplitSeq(v, ",") {
		alt = strings.TrimSpace(alt)
		_, code, hasSystem := strings.Cut(alt, "|")
		if !hasSystem {
			code = alt
		}
		if code == "" || strings.Contains(code, "|") || strings.ContainsAny(alt, "\t\r\n\x00") {
			q.fail(field, "%s is not a code: give code or system|code, several separated by commas (e.g. http://loinc.org|4548-4)", quote.Quote(alt))
			return
		}
		alts = append(alts, alt)
	}
	q.params.Add(param, strings.Join(alts, ","))
}

// byName searches for a test by name: by its LOINC codes where loinc is set and the name is a
// test namedTests knows, else by matching the words against each result's name. Call it after
// the code field, which it cannot accompany.
func (q *query) byName(field, v string, loinc bool) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	q.set(field, v)
	if q.params.Has("code") {
		q.fail(field, "give name or code, not both")
		return
	}
	words := strings.Fields(normalName(v))
	if len(words) == 0 || len(v) > 100 {
		q.fail(field, "%s is not a test name: give words such as cholesterol, a1c, tsh or blood pressure", quote.Quote(cutText(v, 100)))
		return
	}
	q.name = v
	if t, ok := lookupTest(v); ok && loinc {
		q.mapped = &t
		q.params.Add("code", t.codes())
		return
	}
	q.match = &nameMatcher{all: words}
}

// word adds param=<v> for an enum's word. checkArgs refused words not in the enum before the
// handler ran; this refuses them again for callers that skip it, such as the fuzz test.
func word[E interface {
	~string
	enum
}](q *query, param, field string, v E) {
	if v == "" {
		return
	}
	q.set(field, string(v))
	if !slices.Contains(v.values(), string(v)) {
		q.fail(field, "%s is not one of %s; leave it out for any", quote.Quote(string(v)), strings.Join(v.values(), ", "))
		return
	}
	q.params.Add(param, string(v))
}

// reference adds param=<Type>/<id> from "<id>" or "<Type>/<id>".
func (q *query) reference(param, field, typ, v string) {
	if v = strings.TrimSpace(v); v == "" {
		return
	}
	q.set(field, v)
	id := strings.TrimPrefix(v, typ+"/")
	if !practice.IsID(id) {
		q.fail(field, "%s is not a %s id or reference: give <id> or %s/<id> (ids are 1-64 letters, digits, '-' and '.')", quote.Quote(v), typ, typ)
		return
	}
	q.params.Add(param, typ+"/"+id)
}

// friendlyCategory adds category=<system>|<code> for a category name practice/smart knows for
// q's resource; an unknown name is an error that lists the known ones.
func (q *query) friendlyCategory(field, name string) {
	if name = strings.TrimSpace(name); name == "" {
		return
	}
	q.set(field, name)
	c, err := fhir.LookupCategory(q.resource, name)
	if err != nil {
		q.fail(field, "%v", err)
		return
	}
	q.category = c.Name
	q.params.Add("category", c.System+"|"+c.Code)
}

// The statuses and categories a typed search takes, each an enum of one word. FHIR searches
// accept several comma-separated statuses, but a list of words inside one string can only be
// described in prose, or checked by a pattern no model reads; one word from a list the schema
// shows is what a model gets right the first time. Leaving the field out searches them all,
// and each record says its own status.
type (
	observationStatus     string
	reportStatus          string
	medRequestStatus      string
	medRequestIntent      string
	immunizationStatus    string
	procedureStatus       string
	careTeamStatus        string
	requestStatus         string
	allergyClinicalStatus string
	observationCategory   string
	conditionCategory     string
	// detail is how a typed search shows each record: compact rows, or full resources.
	detail string
)

func (detail) values() []string { return []string{"compact", "full"} }

// The words of each status, from the FHIR R4 value set of its resource's status element.
func (observationStatus) values() []string {
	return []string{"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
}

func (reportStatus) values() []string {
	return []string{"registered", "partial", "preliminary", "final", "amended", "corrected", "appended", "cancelled", "entered-in-error", "unknown"}
}

func (medRequestStatus) values() []string {
	return []string{"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
}

func (medRequestIntent) values() []string {
	return []string{"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
}

func (immunizationStatus) values() []string {
	return []string{"completed", "entered-in-error", "not-done"}
}

func (procedureStatus) values() []string {
	return []string{"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"}
}

func (careTeamStatus) values() []string {
	return []string{"proposed", "active", "suspended", "inactive", "entered-in-error"}
}

func (requestStatus) values() []string {
	return []string{"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
}

func (allergyClinicalStatus) values() []string { return []string{"active", "inactive", "resolved"} }

// The categories are the ones practice/fhir knows, by the names the tools give them.
func (observationCategory) values() []string { return categoryNames(fhir.ObservationCategories) }
func (conditionCategory) values() []string   { return categoryNames(fhir.ConditionCategories) }

func categoryNames(cats []fhir.Category) []string {
	names := make([]string, len(cats))
	for i, c := range cats {
		names[i] = c.Name
	}
	return names
}

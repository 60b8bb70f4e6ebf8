package mcp

import (
	"context"
	"encoding/json"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/practice"
)

// Whatever a model types into a typed search's fields, the query built from them, once it passes
// the checks, becomes a URL inside the practice's base whose path is exactly the resource type
// and whose query decodes to exactly the parameters built (the actor adds the patient): no value
// adds a parameter, a path segment or a fragment.
func FuzzTypedSearch(f *testing.F) {
	f.Add("laboratory", "http://loinc.org|4548-4", "2024-01-01", "2024-12-31", "final", "enc-1", "2025-01-01T00:00:00Z")
	f.Add("vital-signs", "a&patient=other#x", "2024", "", "final,amended", "Encounter/../Patient/x", "")
	f.Add("", "x|y|z", "2024/01/01", "ge2024", "done", "a b", "yesterday")
	f.Add("sdoh", "http://loinc.org|1,2,,3", "2024-02-30", "2024-01", "", "Encounter/enc-1", "2024-01-01T25:00:00Z")
	f.Fuzz(func(t *testing.T, category, code, from, to, status, encounter, since string) {
		q := newQuery("Observation")
		q.friendlyCategory("category", category)
		q.token("code", "code", code)
		q.dates("date", "date_from", from, "date_to", to)
		word(q, "status", "status", observationStatus(status))
		q.reference("encounter", "encounter", "Encounter", encounter)
		q.instant("_since", "since", since)
		if q.err() != nil {
			return
		}
		if (practice.Request{Resource: "Observation", Params: q.params}).Validate() != nil {
			return // e.g. a value over the length bound
		}
		const base = "https://fhir4.healow.com/fhir/r4/FEIGCD"
		got := base + "/Observation?" + q.params.Encode()
		u, err := url.Parse(got)
		if err != nil || u.Host != "fhir4.healow.com" || u.Path != "/fhir/r4/FEIGCD/Observation" || u.Fragment != "" || strings.Contains(got, "#") {
			t.Fatalf("built %q", got)
		}
		want := url.Values{}
		for k, v := range q.params {
			want[k] = v
		}
		if u.Query().Encode() != want.Encode() {
			t.Fatalf("the query %v is not the parameters built, %v", u.Query(), want)
		}
		if r := want.Get("encounter"); r != "" && (path.Clean(r) != r || !strings.HasPrefix(r, "Encounter/")) {
			t.Fatalf("encounter=%q", r)
		}
	})
}

// Any answer to a search either fails readPage with an error or becomes a page whose kept
// entries are objects, fit the result cap, and come back out as valid JSON that, with its note,
// fits the cap too.
func FuzzReadPage(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","total":1,"link":[{"relation":"next","url":"https://x/y"}],"entry":[{"fullUrl":"https://evil/x","resource":{"resourceType":"Observation","id":"1","text":{"status":"generated","div":"<div>x</div>"}},"search":{"mode":"match"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[1,"two",null]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","diagnostics":"narrowed"}]},"search":{"mode":"outcome"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","total":"many","entry":{"resource":{}}}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[],"entry":[{"resource":{"resourceType":"Goal"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","meta":{"tag":"` + strings.Repeat("m", 70<<10) + `"},"link":[{"relation":"next","url":"https://x/` +
		strings.Repeat("n", 9<<10) + `"}],"entry":[{"resource":{"resourceType":"Observation","id":"` + strings.Repeat("i", 30<<10) + `"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := readPage(context.Background(), body)
		if err != nil {
			return
		}
		if p.kept > len(p.entries) || len(p.modes) != len(p.entries) || len(p.refs) != len(p.entries) {
			t.Fatalf("kept %d of %d entries, %d modes, %d refs", p.kept, len(p.entries), len(p.modes), len(p.refs))
		}
		out := p.bundle()
		if !json.Valid(out) {
			t.Fatalf("the page is not JSON: %.200s", out)
		}
		for _, r := range append(p.resources("match"), p.resources("include")...) {
			if len(r) == 0 || r[0] != '{' {
				t.Fatalf("a resource that is not an object: %.100s", r)
			}
		}
		kept := 0
		for _, e := range p.entries[:p.kept] {
			kept += len(e) + 1
		}
		if kept > MaxResultBytes {
			t.Fatalf("%d bytes of entries kept, more than a result may hold", kept)
		}
		if note := p.note("_count", 0); len(out)+len(note) > MaxResultBytes || len(note) > maxNote {
			t.Fatalf("fhir_search's text would be %d bytes, with a note of %d", len(out)+len(note), len(note))
		}
	})
}

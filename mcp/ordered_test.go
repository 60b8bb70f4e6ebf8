package mcp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice"
)

// obsEntry is a search entry of one of pat-1's Observations.
func obsEntry(id, code, date, value string) string {
	eff := ""
	if date != "" {
		eff = `"effectiveDateTime":"` + date + `",`
	}
	return fmt.Sprintf(`{"resource":{"resourceType":"Observation","id":%q,"status":"final","subject":{"reference":"Patient/pat-1"},%s`+
		`"code":{"coding":[{"system":"http://loinc.org","code":%q}],"text":"Test %s"},"valueString":%q},"search":{"mode":"match"}}`, id, eff, code, code, value)
}

// pages serves entries in pages of size, in the order given, each page linking the next; it
// records the query of every request.
type pages struct {
	base    string
	entries []string
	size    int
	mu      sync.Mutex
	queries []url.Values
}

func (p *pages) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.queries = append(p.queries, r.URL.Query())
	p.mu.Unlock()
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	to := min(from+p.size, len(p.entries))
	link := ""
	if to < len(p.entries) {
		link = fmt.Sprintf(`"link":[{"relation":"next","url":"%s/Observation?patient=pat-1&from=%d"}],`, p.base, to)
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset",%s"entry":[%s]}`, link, strings.Join(p.entries[from:to], ","))
}

func (p *pages) requests() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.queries...)
}

type obsRow struct {
	ID, Date, Code, Value string
}

func rowsOf(t *testing.T, pg pageResult) []obsRow {
	t.Helper()
	out := make([]obsRow, len(pg.Entries))
	for i, e := range pg.Entries {
		if err := json.Unmarshal(e, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func ids(rows []obsRow) string {
	var s []string
	for _, r := range rows {
		s = append(s, r.ID)
	}
	return strings.Join(s, " ")
}

// eCW offers no _sort and its order is unknown: a practice that sends results oldest first,
// over several pages, with dates of every precision, is read whole and shown newest first,
// with the results that have no date last; the pages that follow come from this server.
func TestTypedSearchesShowTheNewestFirst(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	p := &pages{base: r.base(), size: 2, entries: []string{
		obsEntry("undated", "1-1", "", "a"),
		obsEntry("y2019", "1-1", "2019", "b"),
		obsEntry("m2023", "2-2", "2023-06", "c"),
		obsEntry("d2024", "1-1", "2024-01-15", "d"),
		obsEntry("t2024", "2-2", "2024-01-15T23:30:00-05:00", "e"), // 04:30 UTC on the 16th: after d2024
		obsEntry("z2025", "1-1", "2025-02-01T08:00:00Z", "f"),
	}}
	r.set(p.serve, false)
	first := searchPage(t, cs, "search_observation", map[string]any{"count": 4})
	if got := ids(rowsOf(t, first)); got != "z2025 t2024 d2024 m2023" || first.Total == nil || *first.Total != 6 || first.Next == "" {
		t.Fatalf("first page %q, total %v, next %q", got, first.Total, first.Next)
	}
	read := len(p.requests())
	if read != 3 {
		t.Fatalf("the practice was asked %d times for 3 pages", read)
	}
	second := searchPage(t, cs, "search_observation", map[string]any{"next": first.Next})
	if got := ids(rowsOf(t, second)); got != "y2019 undated" || second.Next != "" {
		t.Fatalf("second page %q, next %q", got, second.Next)
	}
	if len(p.requests()) != read {
		t.Fatal("the following page was asked of the practice again")
	}
	// latest keeps the newest of each test.
	latest := searchPage(t, cs, "search_observation", map[string]any{"latest": true})
	if got := ids(rowsOf(t, latest)); got != "z2025 t2024" {
		t.Fatalf("latest: %q", got)
	}
}

// A test named in words is searched by its LOINC codes; a name no table knows is matched
// against the results' names; and when no result carries the codes, the results are matched by
// their names instead, and the note says so.
func TestSearchByName(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	ldl := `{"resource":{"resourceType":"Observation","id":"ldl","status":"final","subject":{"reference":"Patient/pat-1"},"effectiveDateTime":"2024-02-01",` +
		`"code":{"coding":[{"system":"urn:oid:1.2.3","code":"L77","display":"LDL Cholesterol, calc"}]},"valueQuantity":{"value":118,"unit":"mg/dL"}},"search":{"mode":"match"}}`
	vitd := `{"resource":{"resourceType":"Observation","id":"vitd","status":"final","subject":{"reference":"Patient/pat-1"},"effectiveDateTime":"2024-02-01",` +
		`"code":{"text":"Vitamin D, 25-Hydroxy"},"valueQuantity":{"value":31,"unit":"ng/mL"}},"search":{"mode":"match"}}`
	var mu sync.Mutex
	var asked []url.Values
	r.set(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		asked = append(asked, req.URL.Query())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		if req.URL.Query().Has("code") { // this practice records its tests under codes of its own
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)
			return
		}
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","entry":[%s,%s]}`, ldl, vitd)
	}, false)

	chol := searchPage(t, cs, "search_observation", map[string]any{"name": "Cholesterol"})
	mu.Lock()
	firstAsk := asked[0].Get("code")
	mu.Unlock()
	if !strings.Contains(firstAsk, "http://loinc.org|13457-7") || !strings.Contains(firstAsk, "http://loinc.org|2093-3") {
		t.Fatalf("name cholesterol asked code=%q", firstAsk)
	}
	if got := ids(rowsOf(t, chol)); got != "ldl" || !strings.Contains(chol.Note, "No result carries the LOINC codes") {
		t.Fatalf("cholesterol: %q, note %q", got, chol.Note)
	}
	vit := searchPage(t, cs, "search_observation", map[string]any{"name": "vitamin d"})
	if got := ids(rowsOf(t, vit)); got != "vitd" {
		t.Fatalf("vitamin d: %q", got)
	}
	callErr(t, cs, "search_observation", map[string]any{"name": "a1c", "code": "4548-4"}, "name: give name or code, not both")
	callErr(t, cs, "search_observation", map[string]any{"name": "!!"}, "name: \"!!\" is not a test name")
}

// A practice with more matches than a search reads says so, and suggests a date range; the
// search stops at its bound whatever the practice's paging.
func TestASearchReadsABoundedNumberOfMatches(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	var entries []string
	for i := range 2000 {
		entries = append(entries, obsEntry(fmt.Sprintf("o%d", i), "1-1", fmt.Sprintf("2020-01-01T00:%02d:%02dZ", i/60%60, i%60), "v"))
	}
	p := &pages{base: r.base(), size: 100, entries: entries}
	r.set(p.serve, false)
	pg := searchPage(t, cs, "search_observation", nil)
	if pg.Total != nil || !strings.Contains(pg.Note, "more matches than the 500 read") || !strings.Contains(pg.Note, "date range") {
		t.Fatalf("total %v, note %q", pg.Total, pg.Note)
	}
	if n := len(p.requests()); n != 5 {
		t.Fatalf("%d pages read", n)
	}
}

// A next cursor lapses after half an hour on the server's clock, and says what to do.
func TestCursorsExpire(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	r, cs := startRogue(t, func(o *practice.Options) { o.Clock = clock })
	p := &pages{base: r.base(), size: 100, entries: []string{obsEntry("a", "1-1", "2024", "1"), obsEntry("b", "1-1", "2023", "2")}}
	r.set(p.serve, false)
	first := searchPage(t, cs, "search_observation", map[string]any{"count": 1})
	clock.Advance(29 * time.Minute)
	if second := searchPage(t, cs, "search_observation", map[string]any{"next": first.Next}); ids(rowsOf(t, second)) != "b" {
		t.Fatalf("within the half hour: %q", ids(rowsOf(t, second)))
	}
	clock.Advance(2 * time.Minute)
	callErr(t, cs, "search_observation", map[string]any{"next": first.Next}, "next: this next cursor has expired", "run the search again without next")
}

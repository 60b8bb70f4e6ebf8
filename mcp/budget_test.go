package mcp_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// A practice that ignores _count sends a page larger than asked. When fhir_search cuts it to
// fit, asking again with a smaller _count would fetch as much again, for nothing: it is fetched
// once, and the note says how to see the rest instead. A typed search pages what it read
// itself, so it shows the first of them and its next gives the rest, without asking again.
func TestIgnoredCountIsNotAskedTwice(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	var searches atomic.Int32
	r.set(func(w http.ResponseWriter, req *http.Request) {
		searches.Add(1)
		entries := make([]string, 60)
		for i := range entries {
			entries[i] = fmt.Sprintf(`{"resource":{"resourceType":"Observation","id":"o%d","valueString":%q},"search":{"mode":"match"}}`, i, strings.Repeat("v", 2<<10))
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":600,"entry":[%s]}`, strings.Join(entries, ","))
	}, false)
	for _, tc := range []struct {
		tool string
		args map[string]any
		says string
	}{
		{"search_observation", nil, `"returned":20,"entries":[{"id":"o0","value":"vvvv`},
		{"fhir_search", map[string]any{"resource": "Observation"}, "the practice sent 60 matches where _count=20 asked for fewer"},
	} {
		before := searches.Load()
		_, text, isErr := callFull(t, cs, tc.tool, tc.args)
		if isErr || searches.Load()-before != 1 || !strings.Contains(text, tc.says) {
			t.Errorf("%s: error %v, %d requests, note: %.300s", tc.tool, isErr, searches.Load()-before, text[max(len(text)-600, 0):])
		}
	}
}

// Every answer a tool read gives its memory budget back once the tool's result is built: after
// reads, searches asked twice, documents and errors, none of it is still held.
func TestAnswersGiveTheirBudgetBack(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	r.set(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/"), "/")
		switch {
		case parts[0] == "metadata":
			fmt.Fprint(w, `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server","resource":[{"type":"Patient"}]}]}`)
		case parts[0] == "Binary":
			fmt.Fprintf(w, `{"resourceType":"Binary","contentType":"application/pdf","data":"%s"}`, strings.Repeat("JVBE", 1<<18))
		case len(parts) > 1 && parts[1] == "missing":
			w.WriteHeader(http.StatusNotFound)
		case len(parts) > 1:
			fmt.Fprintf(w, `{"resourceType":%q,"id":%q}`, parts[0], parts[1])
		default: // a page larger than a result, which is asked again with a smaller _count
			entries := make([]string, 30)
			for i := range entries {
				entries[i] = fmt.Sprintf(`{"resource":{"resourceType":%q,"id":"e%d","note":%q},"search":{"mode":"match"}}`, parts[0], i, strings.Repeat("n", 4<<10))
			}
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","entry":[%s]}`, strings.Join(entries[:min(len(entries), countOf(req))], ","))
		}
	}, false)
	calls := callEveryReadTool(t, cs)
	callFull(t, cs, "fhir_get", map[string]any{"resource": "Patient", "id": "missing"})
	if len(calls) < 20 {
		t.Fatalf("only %d tools were called", len(calls))
	}
	if in, peak := r.budget.InUse(), r.budget.Peak(); in != 0 || peak == 0 {
		t.Fatalf("after every read tool: %d bytes still held (peak %d)", in, peak)
	}
}

func countOf(req *http.Request) int {
	var n int
	if _, err := fmt.Sscan(req.URL.Query().Get("_count"), &n); err != nil {
		return 1 << 30
	}
	return n
}

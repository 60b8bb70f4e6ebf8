package mcp

import (
	"net/url"
	"strings"
	"testing"
)

func TestQueryBuildsEncodedParameters(t *testing.T) {
	t.Parallel()
	q := newQuery("Observation")
	q.friendlyCategory("category", "Vital-Signs")
	q.dates("date", "date_from", "2024-01-01", "date_to", "2024-12-31T23:59:59+05:00")
	q.token("code", "code", "http://loinc.org|4548-4, 2345-7")
	word(q, "status", "status", observationStatus("amended"))
	q.reference("encounter", "encounter", "Encounter", "enc-1")
	q.instant("_since", "since", "2025-01-01T00:00:00Z")
	if err := q.err(); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"category":  {"http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"},
		"date":      {"ge2024-01-01", "le2024-12-31T23:59:59+05:00"},
		"code":      {"http://loinc.org|4548-4,2345-7"},
		"status":    {"amended"},
		"encounter": {"Encounter/enc-1"},
		"_since":    {"2025-01-01T00:00:00Z"},
	}
	if got := q.params.Encode(); got != want.Encode() {
		t.Fatalf("params\n%s\nwant\n%s", got, want.Encode())
	}
	if !strings.Contains(q.params.Encode(), "%2B05%3A00") || q.category != "vital-signs" {
		t.Fatalf("a + in a zone must be escaped, or the server reads a space: %s", q.params.Encode())
	}
}

// Every bad field is named with its rule, all at once.
func TestQueryNamesEveryBadField(t *testing.T) {
	t.Parallel()
	q := newQuery("Observation")
	q.friendlyCategory("category", "vitals")
	q.dates("date", "date_from", "2024/01/01", "date_to", "ge2024-02-01")
	q.token("code", "code", "a|b|c")
	word(q, "status", "status", observationStatus("done"))
	q.reference("encounter", "encounter", "Encounter", "../Patient/x")
	q.instant("_since", "since", "yesterday")
	err := q.err()
	for _, w := range []string{"category: unknown Observation category", "laboratory, vital-signs", "date_from: \"2024/01/01\"",
		"date_to: \"ge2024-02-01\"", "without a prefix", "code: \"a|b|c\"", "status: \"done\" is not one of registered",
		"encounter: \"../Patient/x\"", "since: \"yesterday\""} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
	r := newQuery("Encounter")
	r.dates("date", "date_from", "2024-06", "date_to", "2024-01-15")
	if err := r.err(); err == nil || !strings.Contains(err.Error(), "date_from: 2024-06 is after date_to 2024-01-15") {
		t.Errorf("a reversed range: %v", err)
	}
	ok := newQuery("Encounter")
	ok.dates("date", "date_from", "2024", "date_to", "2024-06")
	if ok.err() != nil {
		t.Errorf("a year and a month in it: %v", ok.err())
	}
}

package mcp_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// A page of radiology reports is larger than a result may be. The typed tool shows as many as
// fit and its next continues right after them: paging through sees every report exactly once.
func TestLargePagesAreAskedAgainSoNothingIsSkipped(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	first, ids := all(t, cs, "search_diagnostic_report", map[string]any{"detail": "full"})
	if first.Truncated || first.Next == "" || first.Returned >= *first.Total || first.Returned >= 20 {
		t.Fatalf("first page: %d of %d, truncated %v, note %q", first.Returned, *first.Total, first.Truncated, first.Note)
	}
	if !strings.Contains(first.Note, "inline base64 attachment(s) larger than 8 KiB were left out") {
		t.Errorf("the reports' inline presentedForm was not said to be left out: %q", first.Note)
	}
	slices.Sort(ids)
	if len(ids) != *first.Total || len(slices.Compact(ids)) != *first.Total {
		t.Fatalf("paging saw %d of %d reports", len(ids), *first.Total)
	}
	raw, _ := json.Marshal(first)
	if len(raw) > mcp.MaxResultBytes || strings.Contains(string(raw), `"div"`) {
		t.Fatalf("the first page is %d bytes, narrative present: %v", len(raw), strings.Contains(string(raw), `"div"`))
	}

	// fhir_search bounds its raw Bundle the same way and says so in a second block.
	text, notes, isErr := callFull(t, cs, "fhir_search", map[string]any{"resource": "DiagnosticReport"})
	if isErr || len(text) > mcp.MaxResultBytes || !strings.Contains(notes, "healow-mcp: These entries are large, so the page was asked again with _count=") {
		t.Fatalf("fhir_search: error %v, %d bytes, notes %q", isErr, len(text), notes)
	}
	seen := 0
	for b := (bundle{}); ; {
		json.Unmarshal([]byte(text), &b)
		seen += len(b.Entry)
		if b.next() == "" {
			break
		}
		text, _, _ = callFull(t, cs, "fhir_search", map[string]any{"next": b.next()})
	}
	if seen != *first.Total {
		t.Fatalf("fhir_search paged through %d of %d", seen, *first.Total)
	}
}

// A page fhir_search reaches through a link cannot be asked again with a smaller page size; it
// says what it left out and how to see it.
func TestACutNextPageSaysWhatItSkips(t *testing.T) {
	t.Parallel()
	_, cs, p := connected(t)
	link := p.BaseURL + "/DiagnosticReport?" + url.Values{"patient": {p.PatientID}, "_count": {"10"}}.Encode()
	text, notes, isErr := callFull(t, cs, "fhir_search", map[string]any{"next": link})
	var b bundle
	json.Unmarshal([]byte(text), &b)
	if isErr || len(b.Entry) == 0 || len(b.Entry) >= 10 {
		t.Fatalf("a cut page: error %v, %d entries", isErr, len(b.Entry))
	}
	for _, w := range []string{"Only the first " + strconv.Itoa(len(b.Entry)) + " of this page's 10 entries fit", "DiagnosticReport/", "next skips them", "_count=" + strconv.Itoa(len(b.Entry))} {
		if !strings.Contains(notes, w) {
			t.Errorf("note %q does not say %q", notes, w)
		}
	}
}

func TestReadsAreBounded(t *testing.T) {
	t.Parallel()
	_, cs, p := connected(t)
	var who struct {
		ResourceType string `json:"resource_type"`
		ID           string `json:"id"`
		Resource     struct {
			ResourceType        string
			GeneralPractitioner []struct{ Reference string }
		} `json:"resource"`
	}
	callOK(t, cs, "get_patient", nil, &who)
	if who.ResourceType != "Patient" || who.ID != p.PatientID || who.Resource.ResourceType != "Patient" || len(who.Resource.GeneralPractitioner) == 0 {
		t.Fatalf("get_patient = %+v", who)
	}
	// A reference copied from another resource is accepted as the id.
	var doc struct {
		ResourceType string                                   `json:"resource_type"`
		Resource     struct{ Name []struct{ Family string } } `json:"resource"`
	}
	callOK(t, cs, "get_practitioner", map[string]any{"id": who.Resource.GeneralPractitioner[0].Reference}, &doc)
	if doc.ResourceType != "Practitioner" || len(doc.Resource.Name) == 0 {
		t.Fatalf("get_practitioner = %+v", doc)
	}
	callErr(t, cs, "get_practitioner", map[string]any{"id": "pr-nobody"}, "Practitioner/pr-nobody was not found", "HTTP 404")
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Observation", "id": "someone-else"}, "Observation/someone-else was not found", "HTTP 404")
	callErr(t, cs, "get_document_reference", map[string]any{"id": sandbox.DeletedDocumentID},
		"DocumentReference/"+sandbox.DeletedDocumentID+" was deleted", "search again", "HTTP 410")

	// fhir_get strips narratives and long inline data too.
	var reports pageResult
	callOK(t, cs, "search_diagnostic_report", map[string]any{"category": "RAD", "count": 1}, &reports)
	id := idOf(t, reports.Entries[0])
	text, notes, isErr := callFull(t, cs, "fhir_get", map[string]any{"resource": "DiagnosticReport", "id": id})
	if isErr || strings.Contains(text, `"div"`) || !strings.Contains(text, "healow-mcp left out") || !strings.Contains(notes, "left out") {
		t.Fatalf("fhir_get of a radiology report: %v %.300s / %s", isErr, text, notes)
	}
}

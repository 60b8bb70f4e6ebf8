package sandbox

import (
	"net/http"
	"strings"
	"testing"
)

func TestIncludeMedication(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, "launch/patient patient/MedicationRequest.rs patient/Medication.rs")
	b := searchJSON(t, s, p.BaseURL+"/MedicationRequest?_count=50&_include=MedicationRequest:medication", tok.AccessToken)
	var matches, includes int
	for _, e := range b.Entry {
		switch e.Search.Mode {
		case "match":
			matches++
		case "include":
			includes++
			if !strings.HasPrefix(e.FullURL, p.BaseURL+"/Medication/") {
				t.Errorf("included %s", e.FullURL)
			}
		}
	}
	if matches != b.Total || includes == 0 || includes >= matches {
		t.Fatalf("%d matches of %d, %d included", matches, b.Total, includes)
	}
	if plain := searchJSON(t, s, p.BaseURL+"/MedicationRequest?_count=50", tok.AccessToken); len(plain.Entry) != matches {
		t.Fatalf("without _include: %d entries", len(plain.Entry))
	}
}

// Radiology reports are long: a page of them is what overflows a client's output cap.
func TestImagingReportsAreLarge(t *testing.T) {
	t.Parallel()
	for _, p := range catalog() {
		var n int
		for _, r := range p.byType["DiagnosticReport"] {
			if tokensMatch([]string{v20074 + "|RAD"}, r.categories) {
				n++
				if len(r.body) < 32<<10 {
					t.Errorf("%s DiagnosticReport/%s is only %d bytes", p.code, r.id, len(r.body))
				}
			}
		}
		if n != len(imagingStudies) {
			t.Errorf("%s has %d radiology reports", p.code, n)
		}
	}
}

func TestDeletedRecordIsGone(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	status, body, _ := fhirGet(t, s, p.BaseURL+"/DocumentReference/"+DeletedDocumentID, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusGone, "was deleted")
	if b := searchJSON(t, s, p.BaseURL+"/DocumentReference?_id="+DeletedDocumentID, tok.AccessToken); b.Total != 0 {
		t.Fatalf("a search found the deleted document: %d", b.Total)
	}
}

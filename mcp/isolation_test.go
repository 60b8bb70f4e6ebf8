package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/fhirfake"
	"github.com/healow-mcp/healow-mcp/vault"
)

// startLeaky serves the rogue practice (patient pat-1) from a FHIR server of seven patients that
// trusts its clients: it declares patient parameters for every type and hands out whatever it
// is not told to narrow.
func startLeaky(t *testing.T, tweak func(*fhirfake.Server)) (*rogue, *sdk.ClientSession, *fhirfake.Server) {
	t.Helper()
	r, cs := startRogue(t)
	records := fhirfake.New("/fhir/r4/TEST", 7, 3)
	if tweak != nil {
		tweak(records)
	}
	r.mu.Lock()
	r.metadata = nil // the server's own statement
	r.mu.Unlock()
	r.set(records.ServeHTTP, false)
	return r, cs, records
}

// searched decodes fhir_search's Bundle and its note.
func searched(t *testing.T, cs *sdk.ClientSession, resource string) (refs []string, note string) {
	t.Helper()
	_, all, isErr := callFull(t, cs, "fhir_search", map[string]any{"resource": resource, "params": map[string]any{"_count": "100"}})
	if isErr {
		t.Fatalf("fhir_search %s: %s", resource, all)
	}
	first, rest, _ := strings.Cut(all, "\n")
	var b struct {
		Entry []struct {
			Resource struct{ ResourceType, ID string }
		}
	}
	if err := json.Unmarshal([]byte(first), &b); err != nil {
		t.Fatalf("fhir_search %s: %v: %.300s", resource, err, first)
	}
	for _, e := range b.Entry {
		refs = append(refs, e.Resource.ResourceType+"/"+e.Resource.ID)
	}
	return refs, rest
}

func onlyPat1(t *testing.T, what string, refs []string, want int) {
	t.Helper()
	if len(refs) != want {
		t.Fatalf("%s: %d records (%v), want %d", what, len(refs), refs, want)
	}
	for _, ref := range refs {
		if !strings.Contains(ref, "-pat-1-") {
			t.Fatalf("%s: %s is another patient's record", what, ref)
		}
	}
}

// fhir_search of Claim, ExplanationOfBenefit and ImagingStudy with no parameters once returned
// every patient's records: each search is now limited to the patient, and when the server
// ignores the limit, the others' records are left out, counted in the note and the audit trail.
func TestFHIRSearchOfAnyTypeHoldsOnlyThePatient(t *testing.T) {
	t.Parallel()
	_, cs, _ := startLeaky(t, nil)
	for _, typ := range []string{"Claim", "ExplanationOfBenefit", "ImagingStudy", "Coverage", "Task"} {
		refs, note := searched(t, cs, typ)
		onlyPat1(t, typ, refs, 3)
		if note != "" {
			t.Fatalf("%s: note %q for an answer that needed nothing left out", typ, note)
		}
	}

	r, cs, _ := startLeaky(t, func(s *fhirfake.Server) { s.IgnorePatient = true })
	for _, typ := range []string{"Claim", "ExplanationOfBenefit", "ImagingStudy"} {
		refs, note := searched(t, cs, typ)
		onlyPat1(t, typ, refs, 3)
		if !strings.Contains(note, "18 records that healow left out: 18 that name another patient") {
			t.Fatalf("%s: note %q", typ, note)
		}
	}
	r.stop()
	rows, err := r.store.Audit(context.Background(), vault.AuditQuery{})
	if err != nil || len(rows) != 3 {
		t.Fatalf("audit: %+v, %v", rows, err)
	}
	for _, row := range rows {
		if row.Resources != 3 || row.Withheld != 18 || row.Outcome != "ok" {
			t.Fatalf("audit row %+v: want 3 resources and 18 withheld", row)
		}
	}
}

// On a practice whose CapabilityStatement declares no patient parameter for a type (eCW's Claim),
// fhir_search of it is refused with the reason, and nothing is asked for.
func TestTypesThatCannotBeLimitedAreNotSearched(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t) // eCW's statement
	var claims int
	r.set(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/Claim") {
			claims++
		}
		w.WriteHeader(http.StatusNotFound)
	}, false)
	callErr(t, cs, "fhir_search", map[string]any{"resource": "Claim"}, "Claim holds patients' records", "declares no way to search it by patient")
	callErr(t, cs, "fhir_search", map[string]any{"resource": "Binary"}, "cannot be searched")
	callErr(t, cs, "fhir_search", map[string]any{"resource": "Group"}, "cannot be limited to this patient")
	if claims != 0 {
		t.Fatalf("%d Claim searches were sent", claims)
	}
}

// Reading another patient's record by id once returned it: get_document_reference, fhir_get and
// get_binary now refuse it, while the patient's own come back.
func TestReadsOfAnotherPatientsRecordsAreRefused(t *testing.T) {
	t.Parallel()
	_, cs, _ := startLeaky(t, nil)
	callErr(t, cs, "get_document_reference", map[string]any{"id": "documentreference-pat-2-1"}, "belongs to another patient")
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Coverage", "id": "coverage-pat-4-2"}, "belongs to another patient")
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Patient", "id": "pat-3"}, "is not the patient who consented")
	callErr(t, cs, "get_binary", map[string]any{"id": "bin-pat-2-1"}, "none of the patient's documents")

	var doc struct {
		Attachments []struct {
			BinaryID string `json:"binary_id"`
		}
	}
	callOK(t, cs, "get_document_reference", map[string]any{"id": "documentreference-pat-1-2"}, &doc)
	if len(doc.Attachments) != 1 || doc.Attachments[0].BinaryID != "bin-pat-1-2" {
		t.Fatalf("the patient's own document: %+v", doc)
	}
	if _, text, isErr := callFull(t, cs, "get_binary", map[string]any{"id": "bin-pat-1-2"}); isErr || !strings.Contains(text, "note bin-pat-1-2") {
		t.Fatalf("the patient's own Binary: %v %q", isErr, text)
	}
	// A Binary of the patient's that no record read so far pointed to is found among their documents.
	if _, text, isErr := callFull(t, cs, "get_binary", map[string]any{"id": "bin-pat-1-3"}); isErr || !strings.Contains(text, "note bin-pat-1-3") {
		t.Fatalf("a Binary of the patient's found by looking: %v %q", isErr, text)
	}
}

// A server once answered search_encounter with Observations: matches of another type are left
// out, and the note says so.
func TestMatchesOfAnotherTypeAreLeftOut(t *testing.T) {
	t.Parallel()
	_, cs, _ := startLeaky(t, func(s *fhirfake.Server) {
		s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasSuffix(r.URL.Path, "/Encounter") {
				return false
			}
			w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[
				{"resource":{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/pat-1"}},"search":{"mode":"match"}},
				{"resource":{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/pat-1"}},"search":{"mode":"match"}},
				{"resource":{"resourceType":"Observation","id":"o2","subject":{"reference":"Patient/pat-1"}},"search":{"mode":"match"}}]}`))
			return true
		}
	})
	page := searchPage(t, cs, "search_encounter", map[string]any{"detail": "full"})
	if page.Returned != 1 || decode(t, page.Entries[0]).ResourceType != "Encounter" ||
		!strings.Contains(page.Note, "2 of another type than the one searched") {
		t.Fatalf("search_encounter: %d returned, note %q", page.Returned, page.Note)
	}
}

// Go's encoding/json matches member names regardless of case, and FHIR's JSON does not: an
// "Entry" or a "RESOURCE" that the actor's check does not see as entries or resources must not
// reach the model as entries and resources either.
func TestMembersInAnotherCaseDoNotSlipPastTheCheck(t *testing.T) {
	t.Parallel()
	for name, bundle := range map[string]string{
		"Entry":    `{"resourceType":"Bundle","type":"searchset","Entry":[{"resource":{"resourceType":"Encounter","id":"enc-pat-2-x","subject":{"reference":"Patient/pat-2"}}}]}`,
		"RESOURCE": `{"resourceType":"Bundle","type":"searchset","entry":[{"RESOURCE":{"resourceType":"Encounter","id":"enc-pat-2-x","subject":{"reference":"Patient/pat-2"}}}]}`,
		"Subject":  `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Encounter","id":"enc-pat-2-x","Subject":{"reference":"Patient/pat-2"}}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, cs, _ := startLeaky(t, func(s *fhirfake.Server) {
				s.Answer = func(w http.ResponseWriter, r *http.Request) bool {
					if !strings.HasSuffix(r.URL.Path, "/Encounter") {
						return false
					}
					w.Header().Set("Content-Type", "application/fhir+json")
					w.Write([]byte(bundle))
					return true
				}
			})
			for _, call := range []struct {
				tool string
				args map[string]any
			}{
				{"search_encounter", map[string]any{}},
				{"search_encounter", map[string]any{"detail": "full"}},
				{"fhir_search", map[string]any{"resource": "Encounter"}},
			} {
				_, all, _ := callFull(t, cs, call.tool, call.args)
				if strings.Contains(all, "enc-pat-2-x") && !strings.Contains(all, `"Subject"`) {
					t.Fatalf("%s %v passed on another patient's record as a record:\n%s", call.tool, call.args, all)
				}
				if name == "Subject" && strings.Contains(all, "Patient/pat-2") && !strings.Contains(all, `"Subject":{"reference":"Patient/pat-2"}`) {
					t.Fatalf("%s %v read a Subject as the subject:\n%s", call.tool, call.args, all)
				}
			}
		})
	}
}

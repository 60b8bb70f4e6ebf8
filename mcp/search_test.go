package mcp_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// pageResult is the fixed shape of every typed search and list tool.
type pageResult struct {
	ResourceType string            `json:"resource_type"`
	Total        *int              `json:"total"`
	Returned     int               `json:"returned"`
	Entries      []json.RawMessage `json:"entries"`
	Included     []json.RawMessage `json:"included"`
	Next         string            `json:"next"`
	Truncated    bool              `json:"truncated"`
	Note         string            `json:"note"`
}

// resource is what the tests read from an entry.
type resource struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Category     json.RawMessage `json:"category"` // CodeableConcepts, or codes on AllergyIntolerance
	Code         struct {
		Coding []struct{ System, Code string }
	} `json:"code"`
	EffectiveDateTime string `json:"effectiveDateTime"`
	Status            string `json:"status"`
}

func decode(t *testing.T, raw json.RawMessage) resource {
	t.Helper()
	var r resource
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r resource) inCategory(code string) bool {
	var cats []struct {
		Coding []struct{ System, Code string }
	}
	json.Unmarshal(r.Category, &cats)
	for _, c := range cats {
		for _, cd := range c.Coding {
			if cd.Code == code {
				return true
			}
		}
	}
	return false
}

func searchPage(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) pageResult {
	t.Helper()
	var p pageResult
	callOK(t, cs, tool, args, &p)
	if p.Returned != len(p.Entries) {
		t.Fatalf("%s: returned %d but %d entries", tool, p.Returned, len(p.Entries))
	}
	return p
}

// full asks a typed search for the FHIR resources rather than compact rows.
func full(args map[string]any) map[string]any {
	out := map[string]any{"detail": "full"}
	for k, v := range args {
		out[k] = v
	}
	return out
}

// idOf reads an entry's id, a row's or a resource's.
func idOf(t *testing.T, e json.RawMessage) string {
	t.Helper()
	var r struct{ ID string }
	if err := json.Unmarshal(e, &r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// all pages through a typed search and returns every entry's id, in order.
func all(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) (first pageResult, ids []string) {
	t.Helper()
	p := searchPage(t, cs, tool, args)
	first = p
	for {
		for _, e := range p.Entries {
			ids = append(ids, idOf(t, e))
		}
		if p.Next == "" {
			return first, ids
		}
		p = searchPage(t, cs, tool, map[string]any{"next": p.Next})
	}
}

// connected starts a sandbox and a session with its first practice connected.
func connected(t *testing.T) (*testenv.Env, *sdk.ClientSession, sandbox.Practice) {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, p)
	return env, cs, p
}

func TestEveryTypedSearchReadsThePatientsRecord(t *testing.T) {
	t.Parallel()
	_, cs, p := connected(t)
	for _, tt := range []struct {
		tool, resource string
		atLeast        int
	}{
		{"search_encounter", "Encounter", 4},
		{"search_observation", "Observation", 20},
		{"search_condition", "Condition", 5},
		{"list_problems", "Condition", 3},
		{"search_medication_request", "MedicationRequest", 4},
		{"search_document_reference", "DocumentReference", 6},
		{"list_allergies", "AllergyIntolerance", 1},
		{"list_immunizations", "Immunization", 2},
		{"list_care_plans", "CarePlan", 1},
		{"list_goals", "Goal", 1},
		{"list_care_team", "CareTeam", 1},
		{"list_devices", "Device", 1},
		{"search_diagnostic_report", "DiagnosticReport", 2},
		{"search_procedure", "Procedure", 2},
		{"search_service_request", "ServiceRequest", 1},
		{"get_coverage", "Coverage", 1},
	} {
		text, isErr := call(t, cs, tt.tool, map[string]any{"detail": "full"})
		if isErr {
			t.Fatalf("%s: %s", tt.tool, text)
		}
		var pg pageResult
		json.Unmarshal([]byte(text), &pg)
		if pg.ResourceType != tt.resource || pg.Returned < tt.atLeast || pg.Total == nil {
			t.Errorf("%s: %s, %d returned", tt.tool, pg.ResourceType, pg.Returned)
		}
		// The compact rows are the same records, in the same order, in fewer bytes.
		compact := searchPage(t, cs, tt.tool, nil)
		if compact.Returned < pg.Returned || len(compact.Entries) > 0 && idOf(t, compact.Entries[0]) != idOf(t, pg.Entries[0]) {
			t.Errorf("%s: %d compact rows for %d resources", tt.tool, compact.Returned, pg.Returned)
		}
		if rows, resources := len(mustJSON(t, compact.Entries[:pg.Returned])), len(mustJSON(t, pg.Entries)); rows*2 > resources {
			t.Errorf("%s: compact rows take %d bytes, the resources %d", tt.tool, rows, resources)
		}
		for _, e := range pg.Entries {
			if r := decode(t, e); r.ResourceType != tt.resource {
				t.Errorf("%s returned a %s", tt.tool, r.ResourceType)
			}
			if !strings.Contains(string(e), p.PatientID) {
				t.Errorf("%s: an entry does not name the patient: %.200s", tt.tool, e)
			}
		}
		if strings.Contains(text, `"div"`) {
			t.Errorf("%s returned a narrative div", tt.tool)
		}
	}
	var problems pageResult
	callOK(t, cs, "list_problems", map[string]any{"detail": "full"}, &problems)
	for _, e := range problems.Entries {
		if !decode(t, e).inCategory("problem-list-item") {
			t.Errorf("list_problems returned %.200s", e)
		}
	}
}

func TestObservationPagesAndFilters(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	lab, ids := all(t, cs, "search_observation", map[string]any{"category": "laboratory"})
	if lab.Total == nil || lab.Returned != 20 || *lab.Total <= 20 || len(ids) != *lab.Total || lab.Next == "" {
		t.Fatalf("laboratory: %d of %v on the first page, %d in all", lab.Returned, lab.Total, len(ids))
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != *lab.Total {
		t.Fatal("paging repeated an entry")
	}
	// The friendly name reached the practice as US Core's system|code: it kept to the category.
	lab = searchPage(t, cs, "search_observation", full(map[string]any{"category": "laboratory"}))
	for _, e := range lab.Entries {
		if !decode(t, e).inCategory("laboratory") {
			t.Fatalf("a laboratory search returned %.200s", e)
		}
	}

	small := searchPage(t, cs, "search_observation", map[string]any{"category": "laboratory", "count": 5})
	if small.Returned != 5 || small.Next == "" {
		t.Fatalf("count=5: %d returned, next %q", small.Returned, small.Next)
	}
	a1c := searchPage(t, cs, "search_observation", full(map[string]any{"code": "http://loinc.org|4548-4", "status": "final"}))
	if a1c.Returned != 4 {
		t.Fatalf("A1c: %d results", a1c.Returned)
	}
	for _, e := range a1c.Entries {
		if r := decode(t, e); r.Code.Coding[0].Code != "4548-4" || r.Status != "final" {
			t.Fatalf("A1c search returned %+v", r)
		}
	}
	ranged := searchPage(t, cs, "search_observation", full(map[string]any{"category": "laboratory", "date_from": "2024-01-01", "date_to": "2024-12-31", "count": 100}))
	if ranged.Returned == 0 || ranged.Returned >= *lab.Total {
		t.Fatalf("a date range kept %d of %d", ranged.Returned, *lab.Total)
	}
	for _, e := range ranged.Entries {
		if d := decode(t, e).EffectiveDateTime; d < "2024-01-01" || d > "2024-12-31T23:59:59Z" {
			t.Fatalf("result dated %s outside the range", d)
		}
	}
}

// Every friendly category maps to a token the practice understands, and the scope matching
// agrees: categories eCW offers no scope for are said to be left out, the others are not.
func TestEveryFriendlyCategory(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	withData := map[string]bool{"laboratory": true, "vital-signs": true, "social-history": true, "survey": true, "sdoh": true,
		"problem-list-item": true, "encounter-diagnosis": true, "health-concern": true}
	ungranted := map[string]bool{"procedure": true, "activity": true} // eCW advertises no scope for them
	for tool, cats := range map[string][]fhir.Category{"search_observation": fhir.ObservationCategories, "search_condition": fhir.ConditionCategories} {
		for _, c := range cats {
			pg := searchPage(t, cs, tool, full(map[string]any{"category": c.Name, "count": 100}))
			if withData[c.Name] != (pg.Returned > 0) {
				t.Errorf("%s %s: %d returned", tool, c.Name, pg.Returned)
			}
			for _, e := range pg.Entries {
				if !decode(t, e).inCategory(c.Code) {
					t.Errorf("%s %s returned %.200s", tool, c.Name, e)
				}
			}
			// Connecting again would ask for the same scopes, so the note does not advise it.
			if says := strings.Contains(pg.Note, "does not offer this app access") && !strings.Contains(pg.Note, "healow connect"); says != ungranted[c.Name] {
				t.Errorf("%s %s: note %q", tool, c.Name, pg.Note)
			}
		}
	}
	callErr(t, cs, "search_observation", map[string]any{"category": "vitals"},
		"category: \"vitals\" is not one of laboratory, vital-signs, social-history, survey, exam, imaging, procedure, activity, sdoh")
	callErr(t, cs, "search_condition", map[string]any{"category": "laboratory"},
		"problem-list-item, encounter-diagnosis, health-concern")
}

func TestIncludedMedications(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	pg := searchPage(t, cs, "search_medication_request", full(map[string]any{"status": "active", "intent": "order", "include_medication": true}))
	if pg.Returned != 3 || len(pg.Included) == 0 {
		t.Fatalf("%d active prescriptions, %d included", pg.Returned, len(pg.Included))
	}
	// Compact rows name the drugs that only the included Medications name.
	var rows pageResult
	callOK(t, cs, "search_medication_request", map[string]any{"status": "active", "include_medication": true}, &rows)
	for _, e := range rows.Entries {
		var r struct{ Medication, Code string }
		json.Unmarshal(e, &r)
		if r.Medication == "" || strings.HasPrefix(r.Medication, "Medication/") {
			t.Errorf("a row does not name its drug: %s", e)
		}
	}
	for _, e := range pg.Entries {
		if decode(t, e).Status != "active" {
			t.Errorf("status=active returned %.200s", e)
		}
	}
	for _, e := range pg.Included {
		if decode(t, e).ResourceType != "Medication" {
			t.Errorf("included %.200s", e)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package mcp_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// connectWithout connects (or reconnects) p as a patient who declines the scopes drop matches,
// by taking them out of the authorize URL before consenting.
func connectWithout(t *testing.T, env *testenv.Env, cs *sdk.ClientSession, p sandbox.Practice, drop func(scope string) bool) {
	t.Helper()
	var started struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	callOK(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &started)
	u, err := url.Parse(started.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	var kept []string
	for _, s := range strings.Fields(q.Get("scope")) {
		if !drop(s) {
			kept = append(kept, s)
		}
	}
	q.Set("scope", strings.Join(kept, " "))
	u.RawQuery = q.Encode()
	redirect, err := env.Sandbox.Consent(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	var done struct{}
	callOK(t, cs, "complete_oauth", map[string]any{"code": redirect}, &done)
}

// A type or category the patient did not grant is refused by the practice with eCW's words;
// the tool says which scope is missing and how to reconnect.
func TestRefusalsNameTheMissingScope(t *testing.T) {
	t.Parallel()
	env, cs, p := connected(t)
	lab := searchPage(t, cs, "search_observation", map[string]any{"category": "laboratory", "count": 1})
	labID := idOf(t, lab.Entries[0])
	var doc struct {
		Attachments []struct {
			BinaryID string `json:"binary_id"`
		}
	}
	docs := searchPage(t, cs, "search_document_reference", map[string]any{"count": 1})
	callOK(t, cs, "get_document_reference", map[string]any{"id": idOf(t, docs.Entries[0])}, &doc)
	binaryID := doc.Attachments[0].BinaryID
	connectWithout(t, env, cs, p, func(s string) bool {
		return strings.Contains(s, "Immunization") || strings.Contains(s, "Binary") || strings.HasSuffix(s, "|laboratory")
	})
	// complete_oauth returns once the actor serves the new grant.
	var who struct{ Scopes []string }
	callOK(t, cs, "whoami", nil, &who)
	if strings.Contains(strings.Join(who.Scopes, " "), "Immunization") {
		t.Fatalf("the narrowed connection still has %v", who.Scopes)
	}
	reconnect := "healow connect --name \"" + p.Name + "\" --fhir-base-url " + p.BaseURL
	callErr(t, cs, "list_immunizations", nil, "did not grant access to Immunization", "patient/Immunization.rs", reconnect, "HTTP 403", "not supported for the selected scope")
	callErr(t, cs, "get_binary", map[string]any{"id": binaryID}, "patient/Binary.r", reconnect)
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Observation", "id": labID}, "Observation/"+labID, "category-qualified", reconnect)

	// eCW narrows a search to the granted categories instead of refusing it: the note says why
	// nothing came back.
	none := searchPage(t, cs, "search_observation", map[string]any{"category": "laboratory"})
	if none.Returned != 0 || !strings.Contains(none.Note, "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory") {
		t.Fatalf("a search in an ungranted category: %d returned, note %q", none.Returned, none.Note)
	}
	if vitals := searchPage(t, cs, "search_observation", map[string]any{"category": "vital-signs"}); vitals.Returned == 0 || vitals.Note != "" {
		t.Fatalf("vital signs, still granted: %d returned, note %q", vitals.Returned, vitals.Note)
	}
}

// Nothing a caller types can send the practice's token anywhere but its own FHIR base, and
// every malformed field is refused, named, before anything reaches the practice.
func TestBadInputNeverReachesThePractice(t *testing.T) {
	t.Parallel()
	env, cs, p := connected(t)
	other := env.Sandbox.Practices()[1]
	lab := searchPage(t, cs, "search_observation", map[string]any{"category": "laboratory", "count": 1})
	before := env.Sandbox.Stats().FHIRRequests
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		// Links and URLs outside the practice's base. A typed search's next is a cursor this
		// server holds, never a URL: a link given there goes nowhere.
		{"search_observation", map[string]any{"next": "https://evil.example/fhir/r4/" + p.Code + "/Observation"}, "is not a next cursor of this tool"},
		{"search_observation", map[string]any{"next": p.BaseURL + "/Observation?patient=" + other.PatientID}, "is not a next cursor of this tool"},
		{"search_observation", map[string]any{"next": "aaaaaaaaaaaaaaaaaaaaaaaa.20"}, "has expired"},
		{"search_observation", map[string]any{"next": lab.Next + "0000"}, "points past the end"},
		{"fhir_search", map[string]any{"next": "https://evil.example/fhir/r4/" + p.Code + "/Observation"}, "outside the practice's FHIR base"},
		{"fhir_search", map[string]any{"next": p.BaseURL + "/Observation?patient=" + other.PatientID}, "not the patient who consented"},
		{"fhir_search", map[string]any{"next": strings.Replace(p.BaseURL, "https:", "http:", 1) + "/Observation"}, "outside"},
		{"fhir_search", map[string]any{"next": p.BaseURL + "/../" + other.Code + "/Observation"}, "outside"},
		{"get_binary", map[string]any{"url": "https://evil.example/fhir/r4/" + p.Code + "/Binary/x"}, "outside the practice's FHIR base"},
		{"get_binary", map[string]any{"url": "../" + other.Code + "/Binary/x"}, "outside"},
		{"get_binary", map[string]any{"url": "//evil.example/Binary/x"}, "outside"},
		// Paging rules.
		{"search_observation", map[string]any{"next": lab.Next, "category": "laboratory"}, "next: the cursor already carries its search"},
		{"search_observation", map[string]any{"next": lab.Next, "name": "a1c"}, "drop the other search fields (name)"},
		{"search_observation", map[string]any{"next": lab.Next, "detail": "all"}, "detail: \"all\" is not one of compact, full"},
		{"search_condition", map[string]any{"next": lab.Next}, "next: this cursor pages search_observation's results"},
		{"search_observation", map[string]any{"next": lab.Next, "practice": other.Name}, "unknown practice"},
		{"search_observation", map[string]any{"count": 101}, "count: 101 is out of range"},
		{"search_observation", map[string]any{"count": -1}, "count: -1 is out of range"},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"_count": "500"}}, "params._count"},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"_count": "x"}}, "params._count"},
		// Field rules.
		{"search_observation", map[string]any{"date_from": "2024/01/01"}, "date_from: \"2024/01/01\" is not a date"},
		{"search_observation", map[string]any{"date_to": "ge2024-01-01"}, "without a prefix"},
		{"search_encounter", map[string]any{"date_from": "2024-06-01", "date_to": "2024-01-01"}, "date_from: 2024-06-01 is after date_to"},
		{"search_observation", map[string]any{"status": "done"}, "status: \"done\" is not one of registered"},
		{"search_observation", map[string]any{"code": "a|b|c"}, "code: \"a|b|c\" is not a code"},
		{"search_observation", map[string]any{"encounter": "../Patient/x"}, "encounter:"},
		{"search_observation", map[string]any{"since": "yesterday"}, "since:"},
		{"search_encounter", map[string]any{"practitioner": "Practitioner/a b"}, "practitioner:"},
		{"search_medication_request", map[string]any{"intent": "wish"}, "intent: \"wish\" is not one of proposal"},
		{"list_allergies", map[string]any{"clinical_status": "gone"}, "clinical_status:"},
		{"list_immunizations", map[string]any{"status": "given"}, "status:"},
		{"search_service_request", map[string]any{"occurrence_from": "soon"}, "occurrence_from:"},
		{"get_practitioner", map[string]any{"id": "../Patient/x"}, "id:"},
		{"get_document_reference", map[string]any{"id": "a/b"}, "id:"},
		{"get_binary", map[string]any{}, "id, url: give exactly one"},
		{"get_binary", map[string]any{"id": "x", "url": "Binary/x"}, "id, url: give exactly one"},
		{"get_binary", map[string]any{"id": "x/../y"}, "id:"},
		{"get_binary", map[string]any{"id": "x", "offset": -1}, "offset:"},
		{"fhir_get", map[string]any{"resource": "Patients", "id": "x"}, "resource:"},
		{"fhir_get", map[string]any{"resource": "Patient", "id": "../../Observation"}, "id:"},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"bad name": "x"}}, "params:"},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"code": "a\nb"}}, "control character"},
		{"get_patient", map[string]any{"practice": "Nowhere"}, "unknown practice"},
	} {
		callErr(t, cs, tc.tool, tc.args, tc.want)
	}
	if after := env.Sandbox.Stats().FHIRRequests; after != before {
		t.Fatalf("%d requests reached the practice for refused input", after-before)
	}
}

func TestCapabilityStatement(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	var c struct {
		Software    string `json:"software"`
		FHIRVersion string `json:"fhir_version"`
		Resources   []struct {
			Type         string   `json:"type"`
			Interactions []string `json:"interactions"`
			SearchParams []string `json:"search_params"`
			Include      []string `json:"search_include"`
		} `json:"resources"`
	}
	callOK(t, cs, "get_capability_statement", nil, &c)
	if !strings.Contains(c.Software, "eCW FHIR Facade") || c.FHIRVersion != "4.0.1" || len(c.Resources) < 20 {
		t.Fatalf("get_capability_statement = %+v", c)
	}
	for _, r := range c.Resources {
		switch r.Type {
		case "Observation":
			if strings.Join(r.Interactions, ",") != "read,search-type" || !strings.Contains(strings.Join(r.SearchParams, ","), "_since,category,code,date") {
				t.Errorf("Observation: %+v", r)
			}
		case "MedicationRequest":
			if len(r.Include) != 1 || r.Include[0] != "MedicationRequest:medication" {
				t.Errorf("MedicationRequest: %+v", r)
			}
		}
	}
}

// A practice that keeps refusing the access token after it was renewed says the connection no
// longer works and how to reconnect; the actor renewed once and retried once.
func TestUnauthorizedAfterRefreshSaysReconnect(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, p)
	env.Sandbox.SetFaults(p.Code, sandbox.Faults{RejectAccess: true})
	before := env.Sandbox.Stats()
	callErr(t, cs, "get_patient", nil, "even after renewing it", "healow connect --name")
	after := env.Sandbox.Stats()
	if refreshes, reads := after.RefreshGrants-before.RefreshGrants, after.FHIRRequests-before.FHIRRequests; refreshes != 1 || reads != 2 {
		t.Fatalf("%d refreshes and %d reads, want one of one and two of the other", refreshes, reads)
	}
}

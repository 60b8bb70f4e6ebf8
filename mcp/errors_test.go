package mcp

import (
	"fmt"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
)

// Each refusal a practice can give becomes advice; the practice's own words stay at the end.
func TestExplainFHIR(t *testing.T) {
	t.Parallel()
	info := practice.Info{Name: "Sunrise", FHIRBaseURL: "https://fhir4.healow.com/fhir/r4/FEIGCD",
		Scopes: []string{"patient/Patient.rs", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"}}
	reconnect := "healow connect --name \"Sunrise\" --fhir-base-url https://fhir4.healow.com/fhir/r4/FEIGCD"
	for _, tt := range []struct {
		name string
		tg   target
		fe   practice.FHIRError
		want []string
	}{
		{"403 type not granted", target{resource: "Immunization"}, practice.FHIRError{Status: 403, Outcome: "error forbidden: operation not supported for the selected scope"},
			[]string{"did not grant access to Immunization", "patient/Immunization.rs", reconnect, "HTTP 403", "selected scope"}},
		{"eCW's words on a 400", target{resource: "Observation", category: "laboratory"}, practice.FHIRError{Status: 400, Outcome: "error: Operation not supported for the selected scope"},
			[]string{"Observation (laboratory)", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory", reconnect}},
		{"403 on a read of a category-scoped type", target{resource: "Observation", id: "o1"}, practice.FHIRError{Status: 403},
			[]string{"Observation/o1", "patient/Observation.rs (or the category-qualified scope"}},
		{"403 although granted", target{resource: "Patient", id: "p"}, practice.FHIRError{Status: 403},
			[]string{"although the granted scope patient/Patient.rs should cover it", "connecting again would ask for the same access"}},
		{"401 after refresh", target{resource: "Patient", id: "p"}, practice.FHIRError{Status: 401, Outcome: "error login: expired"},
			[]string{"even after renewing it", reconnect, "HTTP 401"}},
		{"404 read", target{resource: "Practitioner", id: "nobody"}, practice.FHIRError{Status: 404},
			[]string{"Practitioner/nobody was not found at \"Sunrise\"", "search results"}},
		{"404 search", target{resource: "Media"}, practice.FHIRError{Status: 404},
			[]string{"\"Sunrise\" does not serve Media"}},
		{"410", target{resource: "DocumentReference", id: "d"}, practice.FHIRError{Status: 410, Outcome: "error deleted: gone"},
			[]string{"DocumentReference/d was deleted at \"Sunrise\"", "HTTP 410", "gone"}},
		{"429 stays the practice's words", target{resource: "Patient"}, practice.FHIRError{Status: 429},
			[]string{"rate limit"}},
	} {
		fe := tt.fe
		err := explainFHIR(info, tt.tg, &fe, fmt.Errorf("reading: %w", &fe), advice.Command)
		if strings.Contains(tt.name, "although granted") && strings.Contains(err.Error(), reconnect) {
			t.Errorf("%s: advises connecting again, which would ask for the same access: %q", tt.name, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tt.name, err, w)
			}
		}
	}
}

// A refusal is never answered with advice to connect again when connecting again would ask for
// the same scopes: the practice's configuration offers nothing that reads the record.
func TestNoReconnectAdviceThatWouldChangeNothing(t *testing.T) {
	t.Parallel()
	reconnect := "healow connect"
	offered := []string{"openid", "launch/patient", "patient/Patient.rs", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}
	info := practice.Info{Name: "Sunrise", FHIRBaseURL: "https://fhir4.healow.com/fhir/r4/FEIGCD",
		Scopes: []string{"patient/Patient.rs"}, Requestable: offered}
	for _, tt := range []struct {
		tg        target
		reconnect bool
	}{
		{target{resource: "Immunization"}, false},                         // not offered at all
		{target{resource: "Observation", category: "vital-signs"}, false}, // that category is not offered
		{target{resource: "Observation", category: "laboratory"}, true},   // offered, not granted: allow it
		{target{resource: "Observation", id: "o1"}, true},                 // some category of it is offered
		{target{resource: "Patient", id: "p"}, false},                     // granted already
	} {
		fe := practice.FHIRError{Status: 403}
		err := explainFHIR(info, tt.tg, &fe, &fe, advice.Command)
		if strings.Contains(err.Error(), reconnect) != tt.reconnect {
			t.Errorf("%s: %q; want advice to connect again: %v", tt.tg, err, tt.reconnect)
		}
	}
	// A page whose type is not known (an opaque next link): connecting again helps only when it
	// would ask for a scope not granted already.
	for _, tt := range []struct {
		granted   []string
		reconnect bool
	}{
		{offered, false},
		{[]string{"openid", "patient/*.*"}, false},
		{[]string{"patient/Patient.rs"}, true},
	} {
		page := info
		page.Scopes = tt.granted
		fe := practice.FHIRError{Status: 403}
		err := explainFHIR(page, target{}, &fe, &fe, advice.Command)
		if strings.Contains(err.Error(), reconnect) != tt.reconnect {
			t.Errorf("a page, granted %q: %q; want advice to connect again: %v", tt.granted, err, tt.reconnect)
		}
	}
	// With the configuration unknown, the advice stays.
	info.Requestable = nil
	fe := practice.FHIRError{Status: 403}
	if err := explainFHIR(info, target{resource: "Immunization"}, &fe, &fe, advice.Command); !strings.Contains(err.Error(), reconnect) {
		t.Errorf("without a known configuration: %q", err)
	}
}

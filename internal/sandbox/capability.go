package sandbox

import (
	"net/http"
	"time"
)

// writeCapability answers <base>/metadata with a CapabilityStatement close
// to eCW's: read and search-type only, and the OAuth endpoints in the
// security extension for clients that discover through it rather than
// through smart-configuration. Like eCW's, it needs no token.
func (s *Server) writeCapability(w http.ResponseWriter, p *practice) {
	var resources []obj
	for _, t := range resourceTypes {
		interactions := []obj{{"code": "read"}}
		if t != "Binary" {
			interactions = append(interactions, obj{"code": "search-type"})
		}
		r := obj{"type": t, "interaction": interactions}
		if params := searchParams[t]; len(params) > 0 {
			var sp []obj
			for _, name := range params {
				sp = append(sp, obj{"name": name, "type": searchParamType(name)})
			}
			r["searchParam"] = sp
			if t != "Provenance" {
				r["searchRevInclude"] = []string{"Provenance:target"}
			}
		}
		if t == "MedicationRequest" {
			r["searchInclude"] = []string{"MedicationRequest:medication"}
		}
		resources = append(resources, r)
	}
	writeJSON(w, http.StatusOK, fhirJSON, obj{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         s.now().UTC().Format(time.DateOnly),
		"kind":         "instance",
		"software":     obj{"name": "eCW FHIR Facade (healow-mcp sandbox)"},
		"implementation": obj{
			"description": p.name + " (synthetic)",
			"url":         s.baseURL(p),
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"json"},
		"rest": []obj{{
			"mode": "server",
			"security": obj{
				"service": []obj{concept("SMART-on-FHIR", coding("http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR"))},
				"extension": []obj{{
					"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
					"extension": []obj{
						{"url": "authorize", "valueUri": s.oauthURL("authorize")},
						{"url": "token", "valueUri": s.oauthURL("token")},
					},
				}},
			},
			"resource": resources,
		}},
	})
}

// searchParams are the search parameters eCW's CapabilityStatement declares for each type.
var searchParams = map[string][]string{
	"Patient":            {"_id", "birthdate", "family", "gender", "given", "identifier", "name", "phone"},
	"Observation":        {"_id", "_since", "category", "code", "date", "encounter", "identifier", "patient", "status"},
	"Condition":          {"_id", "category", "encounter", "onset-date", "patient"},
	"DiagnosticReport":   {"_id", "category", "code", "date", "encounter", "patient", "status"},
	"DocumentReference":  {"_id", "category", "contenttype", "date", "encounter", "patient", "type"},
	"MedicationRequest":  {"_id", "authoredon", "encounter", "intended-dispenser", "intent", "patient", "status"},
	"Encounter":          {"_id", "date", "location", "patient", "practitioner"},
	"Immunization":       {"_id", "date", "encounter", "patient", "status"},
	"Procedure":          {"_id", "code", "date", "encounter", "patient", "status"},
	"AllergyIntolerance": {"_id", "clinical-status", "encounter", "patient"},
	"CarePlan":           {"_id", "category", "encounter", "patient"},
	"CareTeam":           {"_id", "patient", "status"},
	"Goal":               {"_id", "encounter", "patient"},
	"Coverage":           {"_id", "patient"},
	"Device":             {"_id", "encounter", "patient", "type"},
	"ServiceRequest":     {"_id", "authored", "category", "code", "occurrence", "patient", "status"},
	"Provenance":         {"_id"},
}

// SearchParams returns a copy of the search parameters the sandbox declares, eCW's, by type:
// tests that fake a practice's CapabilityStatement declare the same.
func SearchParams() map[string][]string {
	out := make(map[string][]string, len(searchParams))
	for t, names := range searchParams {
		out[t] = append([]string(nil), names...)
	}
	return out
}

func searchParamType(name string) string {
	switch name {
	case "patient", "encounter", "location", "practitioner", "intended-dispenser":
		return "reference"
	case "date", "birthdate", "onset-date", "authoredon", "authored", "occurrence":
		return "date"
	case "_since":
		return "date"
	case "family", "given", "name", "phone":
		return "string"
	}
	return "token"
}

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
		resources = append(resources, obj{"type": t, "interaction": interactions})
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

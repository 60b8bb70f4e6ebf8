package practice

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// capability is what the actor keeps of a practice's CapabilityStatement: the search
// parameters it declares for each resource type, which decide how a search is limited to the
// patient.
type capability struct {
	searchParams map[string]map[string]bool // resource type -> declared search parameter names
}

// parseCapability reads the search parameters out of a CapabilityStatement.
func parseCapability(body []byte) (*capability, error) {
	var cs struct {
		ResourceType string `json:"resourceType"`
		Rest         []struct {
			Resource []struct {
				Type        string `json:"type"`
				SearchParam []struct {
					Name string `json:"name"`
				} `json:"searchParam"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(body, &cs); err != nil {
		return nil, errors.New("the practice's CapabilityStatement is not well-formed JSON")
	}
	if cs.ResourceType != "CapabilityStatement" {
		return nil, fmt.Errorf("the practice's /metadata answered with a %s, not a CapabilityStatement", quote.Quote(cs.ResourceType))
	}
	c := &capability{searchParams: map[string]map[string]bool{}}
	for _, rest := range cs.Rest {
		for _, res := range rest.Resource {
			params := c.searchParams[res.Type]
			if params == nil {
				params = map[string]bool{}
				c.searchParams[res.Type] = params
			}
			for _, p := range res.SearchParam {
				params[p.Name] = true
			}
		}
	}
	return c, nil
}

// pin returns the search parameter that limits a search of resource to one patient: the first
// of the type's subject parameters that the practice declares. ok is false when the type holds
// patient data and the practice declares none of them; pin is "" for a type that holds none.
func (c *capability) pin(resource string) (pin string, ok bool) {
	if !fhir.HoldsPatientData(resource) {
		return "", true
	}
	kind, known := fhir.PatientCompartment(resource)
	if !known {
		return "", false
	}
	for _, p := range kind.SubjectParams {
		if c.searchParams[resource][p] {
			return p, true
		}
	}
	return "", false
}

package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

// capabilityOut is a practice's CapabilityStatement, reduced to what a model uses to choose
// its searches. The statement itself runs to many pages.
type capabilityOut struct {
	Software       string             `json:"software,omitempty" jsonschema:"the FHIR server software and version, e.g. eCW FHIR Facade"`
	FHIRVersion    string             `json:"fhir_version,omitempty"`
	Date           string             `json:"date,omitempty" jsonschema:"when the practice last changed the statement"`
	Implementation string             `json:"implementation,omitempty" jsonschema:"what the practice calls this FHIR endpoint"`
	Formats        []string           `json:"formats,omitempty"`
	Resources      []capabilityEntity `json:"resources" jsonschema:"each resource type the practice serves, with what it can do"`
	Note           string             `json:"note,omitempty" jsonschema:"what was left out to fit the size cap, if anything"`
}

type capabilityEntity struct {
	Type         string   `json:"type"`
	Interactions []string `json:"interactions" jsonschema:"read, search-type, ..."`
	SearchParams []string `json:"search_params,omitempty" jsonschema:"the search parameters the practice declares"`
	Include      []string `json:"search_include,omitempty" jsonschema:"_include values it declares"`
	RevInclude   []string `json:"search_rev_include,omitempty" jsonschema:"_revinclude values it declares"`
}

func (t *tools) addCapability(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:         "get_capability_statement",
		Description:  "What a practice's FHIR server offers: per resource type its interactions, search parameters and _includes.",
		OutputSchema: schemaFor[capabilityOut](),
		Annotations:  readOnly("FHIR server capabilities"),
	}, t.capability)
}

func (t *tools) capability(ctx context.Context, _ *sdk.CallToolRequest, in practiceIn) (*sdk.CallToolResult, capabilityOut, error) {
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, capabilityOut{}, explain(err)
	}
	resp, err := t.fetch(ctx, a, practice.Request{Metadata: true})
	if err != nil {
		return nil, capabilityOut{}, t.explainFetch(ctx, a, target{resource: "CapabilityStatement"}, err)
	}
	out, err := summarizeCapability(resp.Body)
	if err != nil {
		return nil, capabilityOut{}, err
	}
	return nil, out, nil
}

func summarizeCapability(body []byte) (capabilityOut, error) {
	var cs struct {
		ResourceType   string `json:"resourceType"`
		FHIRVersion    string `json:"fhirVersion"`
		Date           string `json:"date"`
		Format         []string
		Software       struct{ Name, Version string }
		Implementation struct {
			Description string `json:"description"`
		} `json:"implementation"`
		Rest []struct {
			Resource []struct {
				Type        string `json:"type"`
				Interaction []struct {
					Code string `json:"code"`
				} `json:"interaction"`
				SearchParam []struct {
					Name string `json:"name"`
				} `json:"searchParam"`
				SearchInclude    []string `json:"searchInclude"`
				SearchRevInclude []string `json:"searchRevInclude"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal(body, &cs); err != nil {
		return capabilityOut{}, fmt.Errorf("the practice's CapabilityStatement does not parse: %s", jsonscan.Why(err))
	}
	if cs.ResourceType != "CapabilityStatement" {
		return capabilityOut{}, fmt.Errorf("the practice's /metadata answered with a %s, not a CapabilityStatement", quote.Quote(cs.ResourceType))
	}
	// Everything here is the practice's words: each is cut, and the resource types are kept while
	// they fit, so that a statement of megabytes still gives a result of at most MaxResultBytes.
	word := func(s string) string { return cutText(s, quote.Max) }
	out := capabilityOut{FHIRVersion: word(cs.FHIRVersion), Date: word(cs.Date), Implementation: word(cs.Implementation.Description),
		Formats: words(cs.Format, maxListed), Resources: []capabilityEntity{}}
	out.Software = cs.Software.Name
	if cs.Software.Version != "" {
		out.Software += " " + cs.Software.Version
	}
	out.Software = word(out.Software)
	head, _ := json.Marshal(out)
	used, total := envelope+maxNote+len(head), 0
	for _, r := range cs.Rest {
		for _, res := range r.Resource {
			if total++; total > len(out.Resources)+1 {
				continue // one did not fit; count the rest
			}
			e := capabilityEntity{Type: word(res.Type), Interactions: []string{},
				Include: words(res.SearchInclude, maxParams), RevInclude: words(res.SearchRevInclude, maxParams)}
			for _, i := range res.Interaction[:min(len(res.Interaction), maxParams)] {
				e.Interactions = append(e.Interactions, word(i.Code))
			}
			for _, p := range res.SearchParam[:min(len(res.SearchParam), maxParams)] {
				e.SearchParams = append(e.SearchParams, word(p.Name))
			}
			b, _ := json.Marshal(e)
			if used += len(b) + 1; used > MaxResultBytes {
				continue
			}
			out.Resources = append(out.Resources, e)
		}
	}
	if left := total - len(out.Resources); left > 0 {
		out.Note = fmt.Sprintf("Only the first %d of the %d resource types the practice declares fit in the %d KiB a result may hold; %d are left out.",
			len(out.Resources), total, MaxResultBytes>>10, left)
	}
	return out, nil
}

// maxParams bounds each list of a resource type: FHIR defines about 30 search parameters for
// the richest type, and eCW declares fewer.
const maxParams = 100

// words cuts each of a list of the practice's words, and the list after n of them.
func words(list []string, n int) []string {
	var out []string
	for _, w := range list[:min(len(list), n)] {
		out = append(out, cutText(w, quote.Max))
	}
	return out
}

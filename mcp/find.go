package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type findIn struct {
	Query string `json:"query" jsonschema:"words of its name, city or state, or its code"`
}

type foundOut struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	Code        string `json:"code" jsonschema:"the practice code, the base URL's last part"`
	FHIRBaseURL string `json:"fhir_base_url" jsonschema:"what connect_practice takes"`
}

type findOut struct {
	Practices []foundOut `json:"practices" jsonschema:"the best matches first, at most 10"`
	Note      string     `json:"note,omitempty" jsonschema:"more matches, no match, or an old copy of the directory"`
}

func (t *tools) addFind(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:        "find_practice",
		Description: "Finds a practice's fhir_base_url, for connect_practice, in eClinicalWorks' directory.",
		Annotations: readOnly("Find a practice"),
	}, t.find)
}

// find answers from the registry's directory: public data, so nothing is audited.
func (t *tools) find(ctx context.Context, _ *sdk.CallToolRequest, in findIn) (*sdk.CallToolResult, findOut, error) {
	r, err := t.reg.FindPractices(ctx, in.Query)
	if err != nil {
		return nil, findOut{}, explain(err)
	}
	out := findOut{Practices: []foundOut{}, Note: r.Note()}
	for _, p := range r.Practices {
		out.Practices = append(out.Practices, foundOut{Name: p.Name, Address: p.Address(), Code: p.Code, FHIRBaseURL: p.BaseURL})
	}
	return nil, out, nil
}

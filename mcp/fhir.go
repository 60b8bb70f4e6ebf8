package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

type getIn struct {
	Practice string `json:"practice,omitempty" jsonschema:"name or id of the practice; may be left out when only one is connected"`
	Resource string `json:"resource" jsonschema:"a FHIR R4 resource type, e.g. Patient, Observation, DocumentReference"`
	ID       string `json:"id" jsonschema:"the resource id"`
}

type searchIn struct {
	Practice string                  `json:"practice,omitempty" jsonschema:"name or id of the practice; may be left out when only one is connected"`
	Resource string                  `json:"resource,omitempty" jsonschema:"a FHIR R4 resource type to search, e.g. Observation; not used with next"`
	Params   map[string]SearchValues `json:"params,omitempty" jsonschema:"search parameters: each name maps to a value or a list of values (repeated keys), e.g. {\"category\": \"laboratory\", \"date\": [\"ge2024-01-01\", \"le2024-12-31\"]}"`
	Next     string                  `json:"next,omitempty" jsonschema:"a Bundle's link[next].url, to fetch the following page; give it alone"`
}

// SearchValues is one search parameter's values: JSON accepts a string or a list of strings.
type SearchValues []string

// UnmarshalJSON takes "v" as well as ["v1", "v2"].
func (v *SearchValues) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*v = SearchValues{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("a search parameter's value must be a string or a list of strings")
	}
	*v = many
	return nil
}

// inputSchema infers a tool's input schema from In, describing SearchValues as the union it is.
func inputSchema[In any]() *jsonschema.Schema {
	s, err := jsonschema.For[In](&jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
		reflect.TypeFor[SearchValues](): {AnyOf: []*jsonschema.Schema{
			{Type: "string"},
			{Type: "array", Items: &jsonschema.Schema{Type: "string"}},
		}},
	}})
	if err != nil {
		panic(fmt.Sprintf("input schema of %T: %v", *new(In), err))
	}
	return s
}

func (t *tools) addFHIR(s *sdk.Server) {
	sdk.AddTool(s, &sdk.Tool{
		Name:  "fhir_get",
		Title: "Read a FHIR resource",
		Description: "Reads one FHIR R4 resource by type and id from a practice, e.g. resource=Patient with the patient id from whoami. " +
			"Returns the resource as JSON.",
		Annotations: readOnly("Read a FHIR resource"),
	}, t.get)
	sdk.AddTool(s, &sdk.Tool{
		Name:  "fhir_search",
		Title: "Search FHIR resources",
		Description: "Searches one FHIR R4 resource type at a practice, limited to the connected patient unless params name patient, subject or _id. " +
			"params maps search parameter names to a value or a list of values, e.g. {\"category\": \"laboratory\"} or " +
			"{\"date\": [\"ge2024-01-01\", \"le2024-12-31\"]}. Returns a searchset Bundle as JSON; when its link has relation \"next\", " +
			"call again with only next set to that URL for the following page.",
		InputSchema: inputSchema[searchIn](),
		Annotations: readOnly("Search FHIR resources"),
	}, t.search)
}

func (t *tools) get(ctx context.Context, _ *sdk.CallToolRequest, in getIn) (*sdk.CallToolResult, any, error) {
	return t.fetch(ctx, in.Practice, practice.Request{Resource: in.Resource, ID: in.ID})
}

func (t *tools) search(ctx context.Context, _ *sdk.CallToolRequest, in searchIn) (*sdk.CallToolResult, any, error) {
	req := practice.Request{Resource: in.Resource, Next: in.Next, ForPatient: true}
	if len(in.Params) > 0 {
		req.Params = url.Values{}
		for k, v := range in.Params {
			req.Params[k] = v
		}
	}
	return t.fetch(ctx, in.Practice, req)
}

func (t *tools) fetch(ctx context.Context, key string, req practice.Request) (*sdk.CallToolResult, any, error) {
	a, err := t.reg.Lookup(ctx, key)
	if err != nil {
		return nil, nil, explain(err)
	}
	resp, err := a.Fetch(ctx, req)
	if err != nil {
		return nil, nil, explain(err)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(resp.Body)}}}, nil, nil
}

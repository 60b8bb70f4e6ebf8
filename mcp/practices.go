package mcp

import (
	"context"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

// practiceOut describes one connected practice to the model.
type practiceOut struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	FHIRBaseURL string    `json:"fhir_base_url"`
	PatientID   string    `json:"patient_id"`
	Scopes      []string  `json:"scopes" jsonschema:"the scopes the practice granted"`
	TokenExpiry time.Time `json:"token_expiry" jsonschema:"when the current access token expires; it is renewed on its own"`
	State       string    `json:"state" jsonschema:"ready, refreshing, needs-reconnect, host-not-allowed, circuit-open, degraded or restarting"`
}

func toOut(i practice.Info) practiceOut {
	// scopes is a list in the output schema, never null.
	scopes := i.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return practiceOut{ID: i.ID, Name: i.Name, FHIRBaseURL: i.FHIRBaseURL, PatientID: i.PatientID,
		Scopes: scopes, TokenExpiry: i.TokenExpiry, State: string(i.State)}
}

type listIn struct{}

type listOut struct {
	Practices []practiceOut `json:"practices"`
}

type whoamiIn struct {
	Practice string `json:"practice,omitempty"`
}

func (t *tools) addPractices(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:        "list_practices",
		Description: "The connected practices: name, id, FHIR base URL, patient id, scopes, token expiry, state.",
		Annotations: readOnly("Connected practices"),
	}, t.list)
	addTool(t, s, &sdk.Tool{
		Name:        "whoami",
		Description: "Which patient a practice authorized, the scopes granted and when the access token expires.",
		Annotations: readOnly("Who is connected"),
	}, t.whoami)
}

func (t *tools) list(ctx context.Context, _ *sdk.CallToolRequest, _ listIn) (*sdk.CallToolResult, listOut, error) {
	infos, err := t.reg.Infos(ctx)
	if err != nil {
		return nil, listOut{}, explain(err)
	}
	out := listOut{Practices: []practiceOut{}}
	for _, i := range infos {
		out.Practices = append(out.Practices, toOut(i))
	}
	return nil, out, nil
}

func (t *tools) whoami(ctx context.Context, _ *sdk.CallToolRequest, in whoamiIn) (*sdk.CallToolResult, practiceOut, error) {
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, practiceOut{}, explain(err)
	}
	info, err := a.Info(ctx)
	if err != nil {
		return nil, practiceOut{}, explain(err)
	}
	return nil, toOut(info), nil
}

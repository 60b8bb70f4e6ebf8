package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type connectIn struct {
	Name        string `json:"name" jsonschema:"the user's name for it"`
	FHIRBaseURL string `json:"fhir_base_url" jsonschema:"e.g. https://fhir4.healow.com/fhir/r4/<PRACTICECODE>"`
}

type connectOut struct {
	AuthorizeURL string `json:"authorize_url" jsonschema:"the URL the user opens in a browser to sign in and consent"`
	State        string `json:"state" jsonschema:"pass this to complete_oauth with the code"`
	Next         string `json:"next" jsonschema:"what to do next"`
}

type completeIn struct {
	Code  string `json:"code" jsonschema:"or the whole URL the browser was sent to"`
	State string `json:"state,omitempty" jsonschema:"from connect_practice; not needed with a whole URL"`
}

type completeOut struct {
	Practice   string `json:"practice" jsonschema:"the practice's name"`
	PracticeID string `json:"practice_id"`
	PatientID  string `json:"patient_id" jsonschema:"the FHIR id of the patient who consented"`
}

func (t *tools) addConnect(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:  "connect_practice",
		Title: "Connect a practice",
		Description: "Starts a practice's SMART sign-in: returns authorize_url for the user to open; pass the code they get to " +
			"complete_oauth within 10 minutes. A known name reconnects.",
		Annotations: writes("Connect a practice", false),
	}, t.connect)
	addTool(t, s, &sdk.Tool{
		Name:        "complete_oauth",
		Title:       "Finish connecting",
		Description: "Finishes connect_practice: trades the code for tokens, kept in the OS keychain. Returns the practice and patient id.",
		Annotations: writes("Finish connecting", false),
	}, t.complete)
}

func (t *tools) connect(ctx context.Context, _ *sdk.CallToolRequest, in connectIn) (*sdk.CallToolResult, connectOut, error) {
	a, err := t.reg.BeginConnect(ctx, in.Name, in.FHIRBaseURL)
	if err != nil {
		return nil, connectOut{}, explain(err)
	}
	return nil, connectOut{
		AuthorizeURL: a.URL,
		State:        a.State,
		Next:         "Ask the user to open authorize_url, sign in and consent, then call complete_oauth with the code or the whole redirect URL and this state.",
	}, nil
}

func (t *tools) complete(ctx context.Context, _ *sdk.CallToolRequest, in completeIn) (*sdk.CallToolResult, completeOut, error) {
	info, err := t.reg.CompleteConnect(ctx, in.Code, in.State)
	if err != nil {
		return nil, completeOut{}, explain(err)
	}
	return nil, completeOut{Practice: info.Name, PracticeID: info.ID, PatientID: info.PatientID}, nil
}

package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type connectIn struct {
	Name        string `json:"name" jsonschema:"a name for the practice, chosen by the user, e.g. Sunrise Family Medicine"`
	FHIRBaseURL string `json:"fhir_base_url" jsonschema:"the practice's FHIR R4 base URL, for healow https://fhir4.healow.com/fhir/r4/<PRACTICECODE>"`
}

type connectOut struct {
	AuthorizeURL string `json:"authorize_url" jsonschema:"the URL the user opens in a browser to sign in and consent"`
	State        string `json:"state" jsonschema:"pass this to complete_oauth with the code"`
	Next         string `json:"next" jsonschema:"what to do next"`
}

type completeIn struct {
	Code  string `json:"code" jsonschema:"the authorization code, or the whole URL the browser was redirected to"`
	State string `json:"state,omitempty" jsonschema:"the state from connect_practice; optional when code is the whole redirect URL"`
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
		Description: "Starts connecting a practice with SMART on FHIR. Returns an authorize_url for the user to open; " +
			"after signing in and consenting, the user gives back the code (or the whole redirect URL), which goes to complete_oauth " +
			"within 10 minutes. Connecting a name again reconnects that practice in place. Only eClinicalWorks' FHIR servers, and hosts " +
			"the user lists in HEALOW_ALLOWED_HOSTS, can be connected; the user is told of every practice connected this way.",
		Annotations: writes("Connect a practice", false),
	}, t.connect)
	addTool(t, s, &sdk.Tool{
		Name:  "complete_oauth",
		Title: "Finish connecting a practice",
		Description: "Finishes connect_practice: trades the code for tokens (kept in the OS keychain) and starts serving the practice. " +
			"Takes the bare code with its state, or the whole redirect URL. Returns the practice and the patient id.",
		Annotations: writes("Finish connecting a practice", false),
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

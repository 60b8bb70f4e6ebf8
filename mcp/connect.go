package mcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

type connectIn struct {
	Name        string `json:"name" jsonschema:"the user's name for it"`
	FHIRBaseURL string `json:"fhir_base_url" jsonschema:"e.g. https://fhir4.healow.com/fhir/r4/<PRACTICECODE>"`
}

type connectOut struct {
	AuthorizeURL string `json:"authorize_url" jsonschema:"the URL the user opens in a browser to sign in and consent"`
	State        string `json:"state" jsonschema:"for complete_oauth"`
	Next         string `json:"next" jsonschema:"what to do next"`
}

type completeIn struct {
	Code  string `json:"code,omitempty" jsonschema:"or the whole URL the browser was sent to"`
	State string `json:"state,omitempty" jsonschema:"from connect_practice; not needed with a whole URL"`
}

type completeOut struct {
	Status     string `json:"status" jsonschema:"connected, or waiting: the user has not finished signing in; call again"`
	Practice   string `json:"practice,omitempty" jsonschema:"the practice's name"`
	PracticeID string `json:"practice_id,omitempty"`
	PatientID  string `json:"patient_id,omitempty" jsonschema:"the FHIR id of the patient who consented"`
	Next       string `json:"next,omitempty" jsonschema:"what to do next"`
}

// completeWait is how long complete_oauth with only a state waits for the sign-in: under the
// 60 s clients give a request, so that the answer "still waiting" comes back rather than a
// timeout, and the model asks again.
const completeWait = 45 * time.Second

func (t *tools) addConnect(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name: "connect_practice",
		Description: "Starts a practice's SMART sign-in: returns authorize_url for the user to open and next, what to do then. " +
			"A known name reconnects.",
		Annotations: writes("Connect a practice", false),
	}, t.connect)
	addTool(t, s, &sdk.Tool{
		Name: "complete_oauth",
		Description: "Finishes connect_practice: trades the code for tokens, kept in the OS keychain; with only state, waits up to " +
			"45 s for the sign-in healow receives itself. Returns the practice and patient id, or status waiting.",
		Annotations: writes("Finish connecting", false),
	}, t.complete)
}

func (t *tools) connect(ctx context.Context, req *sdk.CallToolRequest, in connectIn) (*sdk.CallToolResult, connectOut, error) {
	if req.Params.RequestState != "" || req.Params.InputResponses != nil {
		return t.elicited(ctx, req, in)
	}
	a, err := t.reg.BeginConnect(ctx, in.Name, in.FHIRBaseURL)
	if err != nil {
		return nil, connectOut{}, explain(err)
	}
	if a.Listening && urlElicitation(req) {
		// The client shows the link itself and says whether the user opened it; the code comes
		// back to the listener, never through the client or the model.
		return signInElicitation(in.Name, a), connectOut{}, nil
	}
	return nil, connectOut{AuthorizeURL: a.URL, State: a.State, Next: next(a)}, nil
}

func next(a practice.Authorization) string {
	if !a.Listening {
		return "Ask the user to open authorize_url, sign in and consent, then call complete_oauth with the code or the whole redirect URL and this state."
	}
	s := "Give the user authorize_url to open, sign in and consent. healow receives the answer itself, so nothing is pasted, " +
		"and the practice appears in list_practices once they consent. To wait for it, call complete_oauth with only this state " +
		"(it waits up to 45 s; call again while it says waiting)."
	if a.Replaced != "" {
		s = fmt.Sprintf("This replaced the sign-in for %q that was waiting on the same port: its link no longer works. ", a.Replaced) + s
	}
	return s
}

func (t *tools) complete(ctx context.Context, _ *sdk.CallToolRequest, in completeIn) (*sdk.CallToolResult, completeOut, error) {
	var (
		info practice.Info
		err  error
	)
	switch {
	case strings.TrimSpace(in.Code) != "":
		info, err = t.reg.CompleteConnect(ctx, in.Code, in.State)
	case in.State == "":
		return nil, completeOut{}, errors.New("give the state from connect_practice (alone, to wait for a sign-in healow receives itself), " +
			"or the code or whole URL the browser was sent to")
	default:
		wait, cancel := t.clock.WithTimeout(ctx, completeWait)
		defer cancel()
		var done bool
		info, done, err = t.reg.AwaitConnect(wait, in.State)
		if err == nil && !done {
			return nil, completeOut{Status: "waiting", Next: "still waiting: the user has not finished signing in. Ask again " +
				"(call complete_oauth with this state), or ask the user whether the sign-in page said something went wrong."}, nil
		}
	}
	if err != nil {
		return nil, completeOut{}, explain(err)
	}
	return nil, completeOut{Status: "connected", Practice: info.Name, PracticeID: info.ID, PatientID: info.PatientID}, nil
}

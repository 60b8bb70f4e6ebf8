package mcp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
)

// signInKey names the one input connect_practice asks the client for: that the user open the
// sign-in link.
const signInKey = "sign_in"

// urlElicitation reports whether the calling client declared URL-mode elicitation (for the
// protocol of 2026-07-28, in this request's own capabilities).
func urlElicitation(req *sdk.CallToolRequest) bool {
	c := req.ClientCapabilities()
	return c != nil && c.Elicitation != nil && c.Elicitation.URL != nil
}

// signInElicitation asks the client to show the sign-in link, as the negotiated protocol does
// it: the SDK sends the result as an input_required result to a client of 2026-07-28, which
// calls the tool again with the answer, and for a client of 2025-11-25 it sends
// elicitation/create itself and calls the handler again with the answer (see
// serverMultiRoundTripMiddleware). Either way the second call carries RequestState back.
//
// RequestState is the sign-in's state and its link. The state is 256 random bits that the
// sign-ins actor must know, and that the model was going to be given anyway, and the link
// is what the client was just shown: a client that sends back another gains nothing.
func signInElicitation(name string, a practice.Authorization) *sdk.CallToolResult {
	return &sdk.CallToolResult{
		InputRequests: sdk.InputRequestMap{signInKey: &sdk.ElicitParams{
			Mode:          "url",
			Message:       fmt.Sprintf("Sign in to %s and allow healow-mcp to read your records. healow receives the answer on this computer.", name),
			URL:           a.URL,
			ElicitationID: a.State,
		}},
		RequestState: a.State + " " + a.URL,
	}
}

// elicited is connect_practice called again with the user's answer to the link.
func (t *tools) elicited(ctx context.Context, req *sdk.CallToolRequest, in connectIn) (*sdk.CallToolResult, connectOut, error) {
	state, url, _ := strings.Cut(req.Params.RequestState, " ")
	w, err := t.reg.SignIn(ctx, state)
	if err != nil || w.Practice != strings.TrimSpace(in.Name) {
		return nil, connectOut{}, errors.New("this answer belongs to no sign-in of this practice in flight: call connect_practice again, without requestState")
	}
	var action string
	if r, ok := req.Params.InputResponses[signInKey].(*sdk.ElicitResult); ok {
		action = r.Action
	}
	if action != "accept" {
		t.reg.CancelConnect(ctx, state)
		return nil, connectOut{}, fmt.Errorf("the user did not open the sign-in link for %q (%s), so nothing was connected: connect again if they want to", w.Practice, cmp.Or(action, "no answer"))
	}
	go t.notifyDone(context.WithoutCancel(ctx), req.Session, state)
	out := connectOut{AuthorizeURL: url, State: state, Next: "The user was shown the sign-in link and chose to open it. " +
		"healow receives the answer itself, so nothing is pasted, and the practice appears in list_practices once they consent. " +
		"To wait for it, call complete_oauth with only this state (it waits up to 45 s; call again while it says waiting)."}
	if w.Ended != nil && w.Ended.Err == nil {
		out.Next = fmt.Sprintf("Connected: %q appears in list_practices.", w.Practice)
	}
	return nil, out, nil
}

// notifyDone tells the client that the sign-in it showed is over, however it ended
// (notifications/elicitation/complete), so that it can stop showing it. It waits no longer than
// the sign-in lives: the sign-ins actor ends every sign-in within its ten minutes.
func (t *tools) notifyDone(ctx context.Context, ss *sdk.ServerSession, state string) {
	if ss == nil {
		return
	}
	if _, done, _ := t.reg.AwaitConnect(ctx, state); !done {
		return // the server is stopping
	}
	ss.NotifyElicitationComplete(ctx, &sdk.ElicitationCompleteParams{ElicitationID: state})
}

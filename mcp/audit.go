package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
	"github.com/healow-mcp/healow-mcp/supervisor"
)

// toolKey carries the name of the tool being called, for the audit trail.
type toolKey struct{}

// labelTools puts the called tool's name in the context of its handler.
func labelTools(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		if r, ok := req.(*sdk.CallToolRequest); ok && r.Params != nil {
			ctx = context.WithValue(ctx, toolKey{}, r.Params.Name)
		}
		return next(ctx, method, req)
	}
}

// fetch is the one way tools read from a practice: it asks the actor, keeps the answer's memory
// budget until the call's result is built (see releaseAnswers), and records the access in
// the audit trail (which tool, what kind of record, how many, how it ended), never its content
// or the search values. The CapabilityStatement is not patient data and is not recorded.
func (t *tools) fetch(ctx context.Context, a *practice.Actor, req practice.Request) (*practice.Response, error) {
	resp, err := a.Fetch(ctx, req)
	keepUntilResult(ctx, resp)
	if !errors.Is(err, practice.ErrUnknownAttachment) { // nothing was asked: the caller looks further
		t.record(ctx, a, req, resp, err)
	}
	return resp, err
}

// record adds a row to the audit trail for one read.
func (t *tools) record(ctx context.Context, a *practice.Actor, req practice.Request, resp *practice.Response, err error) {
	if req.Metadata || t.reg == nil {
		return
	}
	tool, _ := ctx.Value(toolKey{}).(string)
	if tool == "" {
		tool = "unknown"
	}
	access := supervisor.Access{PracticeID: a.ID(), Tool: tool, ResourceType: resourceOf(req), Outcome: outcome(err)}
	if err == nil {
		access.Resources = resp.Resources
		if access.ResourceType == "" {
			access.ResourceType = resp.ResourceType
		}
		access.Withheld = resp.Withheld.Total()
	}
	t.reg.RecordAccess(access)
}

// resourceOf names the resource type a request asks for; a next link or an attachment URL names
// it in its path.
func resourceOf(req practice.Request) string {
	link := req.Next + req.Attachment
	if req.Resource != "" || link == "" {
		return req.Resource
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if fhir.IsResourceType(parts[i]) {
			return parts[i]
		}
	}
	return ""
}

// outcome classes an error for the audit trail, without its words (which may quote the practice).
func outcome(err error) string {
	var fe *practice.FHIRError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &fe):
		return fmt.Sprintf("http-%d", fe.Status)
	case errors.Is(err, practice.ErrNeedsReconnect):
		return "needs-reconnect"
	case errors.Is(err, practice.ErrCircuitOpen):
		return "circuit-open"
	case errors.Is(err, practice.ErrOutsideBase):
		return "refused-outside-base"
	case errors.Is(err, egress.ErrNotAllowed):
		return "host-not-allowed"
	case errors.Is(err, practice.ErrNotThisPatient):
		return "refused-other-patient"
	case errors.Is(err, practice.ErrStopped):
		return "stopped"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error"
}

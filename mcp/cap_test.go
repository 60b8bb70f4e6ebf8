package mcp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// What a tool did not bound itself, the backstop does: text over the cap is cut with a sentence
// saying so (and structured content, which would hold more than was kept, goes with it), an
// image over the cap becomes a sentence, and errors the SDK worded keep their start and end.
func TestCapResultBoundsWhatToolsMissed(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 30<<10) // 60 KiB
	r := &sdk.CallToolResult{
		Content:           []sdk.Content{&sdk.TextContent{Text: long}, &sdk.TextContent{Text: long}, &sdk.ImageContent{Data: make([]byte, 8<<20), MIMEType: "image/png"}},
		StructuredContent: json.RawMessage(`{"big":true}`),
	}
	capResult(r)
	total := 0
	for _, c := range r.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			total += len(tc.Text)
			if !strings.HasPrefix(tc.Text, "é") && !strings.HasPrefix(tc.Text, "healow-mcp:") {
				t.Errorf("a block starts %.20q", tc.Text)
			}
		}
	}
	last := r.Content[len(r.Content)-1].(*sdk.TextContent).Text
	if total > MaxResultBytes || r.StructuredContent != nil || !r.IsError || len(r.Content) != 4 ||
		!strings.Contains(last, "this result was cut to the 64 KiB a result may hold; the last 56 KiB of its 120 KiB were left out") ||
		!strings.Contains(last, "structured form was left out") {
		t.Fatalf("%d bytes of text in %d blocks, structured %v, error %v, last %q", total, len(r.Content), r.StructuredContent, r.IsError, last)
	}
	if img := r.Content[2].(*sdk.TextContent).Text; !strings.Contains(img, "This image/png content is 8.0 MiB") {
		t.Errorf("the image became %q", img)
	}

	small := &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "fine"}}, StructuredContent: json.RawMessage(`{}`)}
	if capResult(small); small.IsError || small.StructuredContent == nil || len(small.Content) != 1 {
		t.Errorf("a small result was changed: %+v", small)
	}

	sdkErr := &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{
		Text: `validating "arguments": validating root: type: [` + strings.Repeat("x", 1<<20) + `] has type "array", want "string"`}}}
	capResult(sdkErr)
	if got := sdkErr.Content[0].(*sdk.TextContent).Text; len(got) > 512 || !strings.HasSuffix(got, `want "string"`) {
		t.Errorf("the SDK's error became %d bytes: %.100q", len(got), got)
	}

	wire := capProtocolError(&jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "unknown tool " + strings.Repeat("x", 1<<20)})
	var we *jsonrpc.Error
	if !errors.As(wire, &we) || we.Code != jsonrpc.CodeInvalidParams || len(we.Message) > 512 {
		t.Errorf("a protocol error became %T %d bytes", wire, len(wire.Error()))
	}
}

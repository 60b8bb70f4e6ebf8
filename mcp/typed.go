package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// typed turns a typed handler into the SDK's plain one, doing once what sdk.AddTool does three
// times. For each call the SDK's typed tools decode the arguments into a map, check them
// against the resolved input schema and encode them again before decoding them into In; then
// encode Out, decode it into map[string]any, check it against the output schema and encode it
// once more. The map round trip also sorts a FHIR resource's keys, rounds decimals such as 0.90
// and escapes & in links, so the text a model reads had to be encoded a fourth time. Here the
// arguments have already passed checkArgs, stricter than the schema, and Out is encoded once,
// as it is, for both the text and the structured content; that its JSON fits the tool's output
// schema is a test's job (TestResultsFitTheirOutputSchemas), not every call's. Resolving the
// schemas of 30 tools also no longer delays a server's start.
func typed[In, Out any](h sdk.ToolHandlerFor[In, Out]) sdk.ToolHandler {
	return func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var in In
		if args := req.Params.Arguments; len(args) > 0 && string(args) != "null" {
			if err := json.Unmarshal(args, &in); err != nil { // checkArgs let through what it should not have
				return toolError(fmt.Errorf("arguments: %w", err)), nil
			}
		}
		res, out, err := h(ctx, req, in)
		if err != nil {
			if wire, ok := err.(*jsonrpc.Error); ok { // a protocol error, as the SDK passes it on
				return nil, wire
			}
			return toolError(err), nil
		}
		if res == nil {
			res = &sdk.CallToolResult{}
		}
		if res.InputRequests != nil {
			return res, nil // input requests and content exclude each other on the wire
		}
		if v := reflect.ValueOf(out); !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
			return res, nil // no structured result, as a tool whose Out is any may answer
		}
		b, err := encode(out)
		if err != nil {
			return nil, fmt.Errorf("encoding the result: %w", err)
		}
		res.StructuredContent = json.RawMessage(b)
		if res.Content == nil {
			res.Content = []sdk.Content{&sdk.TextContent{Text: string(b)}}
		}
		return res, nil
	}
}

// encode is v's JSON as a model reads it: "<" and "&" as they are, no trailing newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func toolError(err error) *sdk.CallToolResult {
	res := &sdk.CallToolResult{}
	res.SetError(err)
	return res
}

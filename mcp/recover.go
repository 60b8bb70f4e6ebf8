package mcp

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// recoverPanics turns a panic anywhere in a tool call's path into a tool error, so one bad call
// never takes the server, and every practice with it, down. The SDK does not recover on its own.
func recoverPanics(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (res sdk.Result, err error) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			// The stack shows where, not what: no argument or patient data is in it.
			slog.Error("panic in an MCP request", "method", method, "stack", string(debug.Stack()))
			if method != "tools/call" {
				res, err = nil, fmt.Errorf("internal error in %s; please report it", method)
				return
			}
			res, err = &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{
				Text: "internal error in healow-mcp (please report it); the server is still running, so try again or another tool",
			}}}, nil
		}()
		return next(ctx, method, req)
	}
}

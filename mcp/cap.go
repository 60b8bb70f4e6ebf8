package mcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// capResults is the one place every tool result passes through on its way out, and makes the
// bounds true of all of them, whatever a tool or the SDK produced. Tools fit what they return
// and say what they left out, so this is a backstop that should rarely act:
//   - the text a model reads (text blocks, an embedded resource's text) is at most
//     MaxResultBytes, cut with a sentence that says how much was left out. structuredContent
//     mirrors that text and is not counted again; when the text is cut it would hold more than
//     what was kept, so it is dropped, and the result marked as an error, since a client checks
//     structured content against the tool's output schema and only an error may go without it;
//   - images and blobs are at most MaxBinaryBytes decoded: a larger one would make the message
//     more than the 10 MiB clients accept, and they drop the connection;
//   - an error the SDK worded (an argument that failed the input schema, an unknown tool) may
//     repeat the argument whole, so it keeps only its start and end.
func capResults(next sdk.MethodHandler) sdk.MethodHandler {
	return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
		res, err := next(ctx, method, req)
		if err != nil {
			return res, capProtocolError(err)
		}
		if r, ok := res.(*sdk.CallToolResult); ok && r != nil {
			capResult(r)
		}
		return res, err
	}
}

// Bounds on errors worded by the SDK: their start says what failed and their end what was
// wanted; the middle repeats the argument.
const (
	foreignHead = 256
	foreignTail = 96
)

// sdkErrorPrefix starts the tool errors the SDK writes when arguments fail the input schema.
const sdkErrorPrefix = `validating "arguments"`

func capProtocolError(err error) error {
	msg := err.Error()
	if len(msg) <= foreignHead+foreignTail {
		return err
	}
	out := &jsonrpc.Error{Message: cutMiddle(msg)}
	var wire *jsonrpc.Error
	if errors.As(err, &wire) {
		out.Code = wire.Code
	}
	return out
}

// cutMiddle keeps the start and the end of s, saying how much is left out between them.
func cutMiddle(s string) string {
	if len(s) <= foreignHead+foreignTail {
		return s
	}
	head, tail := foreignHead, len(s)-foreignTail
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return fmt.Sprintf("%s… (%d bytes left out) …%s", s[:head], tail-head, s[tail:])
}

// capResult bounds one tool result in place.
func capResult(r *sdk.CallToolResult) {
	if r.IsError && len(r.Content) == 1 {
		if tc, ok := r.Content[0].(*sdk.TextContent); ok && strings.HasPrefix(tc.Text, sdkErrorPrefix) {
			tc.Text = cutMiddle(tc.Text)
		}
	}
	capBinary(r)
	capText(r)
}

// capBinary replaces each image or blob over MaxBinaryBytes by a sentence with its type and size.
func capBinary(r *sdk.CallToolResult) {
	for i, c := range r.Content {
		var n int
		var mime string
		switch c := c.(type) {
		case *sdk.ImageContent:
			n, mime = len(c.Data), c.MIMEType
		case *sdk.AudioContent:
			n, mime = len(c.Data), c.MIMEType
		case *sdk.EmbeddedResource:
			if c.Resource != nil {
				n, mime = len(c.Resource.Blob), c.Resource.MIMEType
			}
		}
		if n > MaxBinaryBytes {
			r.Content[i] = &sdk.TextContent{Text: "healow-mcp: " + tooLarge(cutText(mime, 100), n, MaxBinaryBytes)}
		}
	}
}

// capNote is room kept for the sentence that says a result was cut.
const capNote = 512

// capText cuts the text of a result to MaxResultBytes, keeping its blocks in order. Blocks that
// healow-mcp wrote itself (notes starting "healow-mcp: ", a few hundred bytes) are kept whole.
func capText(r *sdk.CallToolResult) {
	total, ours := 0, 0
	for _, c := range r.Content {
		total += textLen(c)
		if isNote(c) {
			ours += textLen(c)
		}
	}
	if total <= MaxResultBytes {
		return
	}
	room := MaxResultBytes - capNote - ours
	kept, shown := r.Content[:0], 0
	for _, c := range r.Content {
		n := textLen(c)
		switch {
		case n == 0 || isNote(c):
		case room <= 0:
			continue
		case n > room:
			cutBlock(c, room)
			n, room = textLen(c), 0
		default:
			room -= n
		}
		shown += n
		kept = append(kept, c)
	}
	note := fmt.Sprintf("healow-mcp: this result was cut to the %d KiB a result may hold; the last %s of its %s were left out. Ask for less: a smaller count, a narrower search, another part.",
		MaxResultBytes>>10, kib(total-shown), kib(total))
	if r.StructuredContent != nil {
		r.StructuredContent, r.IsError = nil, true
		note += " Its structured form was left out with them, so this is marked as an error."
	}
	r.Content = append(kept, &sdk.TextContent{Text: note})
}

func isNote(c sdk.Content) bool {
	tc, ok := c.(*sdk.TextContent)
	return ok && strings.HasPrefix(tc.Text, "healow-mcp: ")
}

// textLen is how many bytes of text a block gives a model to read.
func textLen(c sdk.Content) int {
	switch c := c.(type) {
	case *sdk.TextContent:
		return len(c.Text)
	case *sdk.EmbeddedResource:
		if c.Resource != nil {
			return len(c.Resource.Text)
		}
	}
	return 0
}

// cutBlock cuts a text block to n bytes, never inside a character.
func cutBlock(c sdk.Content, n int) {
	switch c := c.(type) {
	case *sdk.TextContent:
		c.Text = cutBytes(c.Text, n)
	case *sdk.EmbeddedResource:
		c.Resource.Text = cutBytes(c.Resource.Text, n)
	}
}

func cutBytes(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:min(n, len(s))]
}

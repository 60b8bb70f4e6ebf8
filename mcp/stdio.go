package mcp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxNesting is how deep a message may nest, as the SDK's decoder allows (it refuses deeper ones).
const maxNesting = 1000

// LineTransport carries MCP as newline-delimited JSON-RPC 2.0, one message a line, as the stdio
// transport does, but a line that is not a message gets an error answer instead of ending the
// session: the SDK's stdio transport stops at the first bad line, and with it every call in
// flight and every practice the server holds.
//
// A line that is not JSON, or holds more than one value, is answered with -32700 (parse error)
// and a null id, as JSON-RPC 2.0 says; JSON that is not a valid request, notification or
// response (a "jsonrpc" other than "2.0", an id that is neither a string nor a number, a
// method that is not a string, nesting past the SDK decoder's limit) with -32600 (invalid
// request), and the request's id when one can be read. Batches (JSON arrays) are refused with
// -32600 as MCP 2025-06-18 and later refuse them, whatever version was negotiated. Lines are
// bounded as the SDK bounds them; a longer line is skipped and answered with -32700.
type LineTransport struct {
	In  io.ReadCloser
	Out io.Writer
	// MaxLine bounds one line in bytes; zero means the SDK's bound, sdk.DefaultMaxLineLength.
	MaxLine int
	// Logger receives a warning for each refused line, saying why, never what it held.
	Logger *slog.Logger
}

// Connect implements sdk.Transport. It starts reading at once.
func (t *LineTransport) Connect(context.Context) (sdk.Connection, error) {
	max := t.MaxLine
	if max <= 0 {
		max = sdk.DefaultMaxLineLength
	}
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &lineConn{in: t.In, out: t.Out, log: log, incoming: make(chan readResult), closed: make(chan struct{})}
	go c.readLoop(max)
	return c, nil
}

type lineConn struct {
	in  io.ReadCloser
	out io.Writer
	log *slog.Logger

	writeMu sync.Mutex // one message a line, whoever writes

	incoming  chan readResult
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

type readResult struct {
	msg jsonrpc.Message
	err error
}

var _ sdk.Connection = (*lineConn)(nil)

func (c *lineConn) SessionID() string { return "" }

// Read returns the next message the client sent; lines that are not messages never reach it.
func (c *lineConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closed:
		return nil, io.EOF
	case r := <-c.incoming:
		return r.msg, r.err
	}
}

// Write sends msg on a line of its own. Writes may come from several goroutines at once.
func (c *lineConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if resp, ok := msg.(*jsonrpc.Response); ok && resp.Error != nil {
		clean := *resp
		clean.Error = plainError(resp.Error)
		msg = &clean
	}
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding a message for the client: %w", err)
	}
	return c.writeLine(data)
}

func (c *lineConn) writeLine(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_, err := c.out.Write(append(data, '\n'))
	return err
}

// Close stops reading. A Read waiting for a line returns at once.
func (c *lineConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.closeErr = c.in.Close()
	})
	return c.closeErr
}

// readLoop reads lines until the input ends, handing messages to Read and answering the rest.
func (c *lineConn) readLoop(max int) {
	r := bufio.NewReaderSize(c.in, 64<<10)
	for {
		line, tooLong, err := readLine(r, max)
		if len(line) > 0 || tooLong {
			var msg jsonrpc.Message
			if tooLong {
				c.refuse(refusal{code: jsonrpc.CodeParseError, why: fmt.Sprintf("parse error: the line is longer than %d bytes, the most one message may be", max)})
			} else if msg = c.classify(line); msg != nil {
				select {
				case c.incoming <- readResult{msg: msg}:
				case <-c.closed:
					return
				}
			}
		}
		if err != nil {
			select {
			case c.incoming <- readResult{err: err}:
			case <-c.closed:
			}
			return
		}
	}
}

// readLine returns the next line without its end (\n or \r\n), or reports that it was longer
// than max, in which case the rest of it has been read and dropped. err is set when the input
// ended (io.EOF) or failed; a last line without a newline is still returned.
func readLine(r *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // the line end does not count
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > max {
			tooLong, line = true, nil
		}
		return line, tooLong, err
	}
}

// refusal is an error answer to a line that is not a message.
type refusal struct {
	code int64
	id   json.RawMessage // the request's id, or nil for null
	why  string
}

// classify returns the message a line holds, or answers the line with an error and returns nil.
func (c *lineConn) classify(line []byte) jsonrpc.Message {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil // blank lines between messages carry nothing
	}
	msg, ref := parseLine(line)
	if ref != nil {
		c.refuse(*ref)
		return nil
	}
	return msg
}

// parseLine reads one JSON-RPC 2.0 message from a line, or says why the line is not one.
func parseLine(line []byte) (jsonrpc.Message, *refusal) {
	invalid := func(id json.RawMessage, why string) (jsonrpc.Message, *refusal) {
		return nil, &refusal{code: jsonrpc.CodeInvalidRequest, id: id, why: "invalid request: " + why}
	}
	if nesting(line) > maxNesting {
		return invalid(readableID(line), fmt.Sprintf("the message nests deeper than %d levels", maxNesting))
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, &refusal{code: jsonrpc.CodeParseError, why: "parse error: the line is not JSON (" + err.Error() + ")"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &refusal{code: jsonrpc.CodeParseError, why: "parse error: something follows the message on its line; send one message a line"}
	}
	raw = bytes.TrimSpace(raw)
	switch raw[0] {
	case '{':
	case '[':
		return invalid(nil, "batches (arrays of messages) are not accepted, as in MCP 2025-06-18 and later; send one message a line")
	default:
		return invalid(nil, "a JSON-RPC message is a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return invalid(nil, "the message's members could not be read")
	}
	id, idOK := m["id"]
	if idOK && !isID(id) && string(id) != "null" {
		return invalid(nil, `"id" must be a string or a number`)
	}
	if !isID(id) {
		id = nil
	}
	var version string
	if json.Unmarshal(m["jsonrpc"], &version) != nil || version != "2.0" {
		return invalid(id, `"jsonrpc" must be "2.0"`)
	}
	if method, ok := m["method"]; ok {
		var s string
		if string(method) == "null" || json.Unmarshal(method, &s) != nil {
			return invalid(id, `"method" must be a string`)
		}
	} else {
		_, result := m["result"]
		_, failed := m["error"]
		if id == nil || result == failed {
			return invalid(id, `a request or notification needs a "method"; a response needs an "id" and either "result" or "error"`)
		}
	}
	msg, err := jsonrpc.DecodeMessage(raw)
	if err != nil {
		return invalid(id, "not a JSON-RPC 2.0 request, notification or response")
	}
	return msg, nil
}

// refuse answers a line that is not a message. The answer goes out like any other, between
// whole lines; the session goes on.
func (c *lineConn) refuse(r refusal) {
	c.log.Warn("refused a line from the MCP client", "code", r.code, "reason", r.why)
	id := r.id
	if id == nil {
		id = json.RawMessage("null")
	}
	data, err := json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc.Error   `json:"error"`
	}{"2.0", id, jsonrpc.Error{Code: r.code, Message: r.why}})
	if err != nil {
		return
	}
	if err := c.writeLine(data); err != nil {
		c.log.Warn("could not answer a refused line", "err", err)
	}
}

// isID reports whether raw is an id JSON-RPC allows in a request: a string or a number.
func isID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case '"':
		var s string
		return json.Unmarshal(raw, &s) == nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var f float64
		return json.Unmarshal(raw, &f) == nil
	}
	return false
}

// readableID is the id of a message too deep for the SDK, when encoding/json can still read it.
func readableID(line []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(line, &m) != nil || !isID(m.ID) {
		return nil
	}
	return m.ID
}

// nesting is how deeply a JSON text nests objects and arrays, strings skipped, in one pass.
func nesting(data []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, b := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case inString:
			inString = b != '"'
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			deepest = max(deepest, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return deepest
}

// goDecoding matches the SDK's errors for params it could not decode, which name Go types and
// struct fields and repeat the params in full.
var goDecoding = regexp.MustCompile(`Go struct field|Go value of type|into a \*mcp\.|cannot unmarshal`)

// sdkMethod finds the method an SDK error is about: "handling 'tools/call': invalid params: ...".
var sdkMethod = regexp.MustCompile(`^handling '([a-z/A-Z_]{1,64})': `)

// plainError rewords a protocol error that speaks Go, keeping its code: the client (and the model
// behind it) learns which request's params were wrong, not which Go type refused them.
func plainError(err error) error {
	msg := err.Error()
	if !goDecoding.MatchString(msg) {
		return err
	}
	code := int64(jsonrpc.CodeInvalidParams)
	var we *jsonrpc.Error
	if errors.As(err, &we) {
		code = we.Code
	}
	what := "the request's params"
	if m := sdkMethod.FindStringSubmatch(msg); m != nil {
		what = fmt.Sprintf("the params of %q", m[1])
	}
	return &jsonrpc.Error{Code: code, Message: "invalid params: " + what + " do not have the shape MCP gives them: a member has the wrong type"}
}

package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// RawClient speaks to an MCP server line by line, as no SDK client would: an SDK client may
// itself refuse an answer with a null id, and cannot send a line that is not a message. It
// serves the tests of healow's line transport in process (over pipes) and through the binary.
type RawClient struct {
	t     testing.TB
	in    io.WriteCloser
	lines chan []byte
	held  map[string]Message // answers read while waiting for another, by id
}

// Message is one JSON-RPC message as read: its members, undecoded.
type Message map[string]json.RawMessage

// NewRawClient writes to in and reads answers from out until out ends.
func NewRawClient(t testing.TB, in io.WriteCloser, out io.Reader) *RawClient {
	c := &RawClient{t: t, in: in, lines: make(chan []byte, 64), held: map[string]Message{}}
	go func() {
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				c.lines <- line
			}
			if err != nil {
				close(c.lines)
				return
			}
		}
	}()
	return c
}

// Send writes line and a newline.
func (c *RawClient) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("writing to the server: %v", err)
	}
}

// CloseInput ends the server's input, as a client that quits does.
func (c *RawClient) CloseInput() { c.in.Close() }

// next reads one answer line, which must be one JSON-RPC 2.0 object with an "id" member.
func (c *RawClient) next() Message {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			c.t.Fatal("the server closed its output")
		}
		if strings.Count(string(line), "\n") != 1 || !strings.HasSuffix(string(line), "\n") {
			c.t.Fatalf("not one line: %.200q", line)
		}
		var m Message
		if err := json.Unmarshal(line, &m); err != nil || string(m["jsonrpc"]) != `"2.0"` {
			c.t.Fatalf("not a JSON-RPC 2.0 message: %.200q", line)
		}
		if _, ok := m["id"]; !ok {
			c.t.Fatalf("an answer without an id member (JSON-RPC wants \"id\": null when it cannot say): %.200q", line)
		}
		return m
	case <-time.After(30 * time.Second):
		c.t.Fatal("no answer from the server")
	}
	return nil
}

// Await returns the answer whose id is the JSON text id, and every answer with a null id read
// before it; answers with other ids are held for a later Await.
func (c *RawClient) Await(id string) (answer Message, nulls []Message) {
	c.t.Helper()
	if m, ok := c.held[id]; ok {
		delete(c.held, id)
		return m, nil
	}
	for {
		m := c.next()
		switch got := string(m["id"]); {
		case got == id:
			return m, nulls
		case got == "null":
			nulls = append(nulls, m)
		default:
			c.held[got] = m
		}
	}
}

// Answered reports whether an answer with id was read and is held.
func (c *RawClient) Answered(id string) bool {
	_, ok := c.held[id]
	return ok
}

// Initialize runs the MCP handshake.
func (c *RawClient) Initialize() {
	c.t.Helper()
	c.Send(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	if m, _ := c.Await(`"init"`); m["result"] == nil {
		c.t.Fatalf("initialize: %s", m["error"])
	}
	c.Send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
}

// ErrorOf reads an error answer's code and message.
func ErrorOf(m Message) (code int64, message string) {
	var e struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	}
	json.Unmarshal(m["error"], &e)
	return e.Code, e.Message
}

// BadLine is a line that is not a message, and the answer it must get: a JSON-RPC error code
// and the id the answer echoes ("null" when none can be read).
type BadLine struct {
	Name, Line, ID string
	Code           int64
}

// BadLines are lines that once ended `healow serve`, and others like them.
func BadLines() []BadLine {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	return []BadLine{
		{"not JSON", `this is not JSON`, "null", -32700},
		{"cut short", `{"jsonrpc":"2.0","id":1,"method":"ping"`, "null", -32700},
		{"trailing data", `{"jsonrpc":"2.0","id":2,"method":"ping"} {"jsonrpc":"2.0","id":3,"method":"ping"}`, "null", -32700},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":4,"method":"ping"}`, "4", -32600},
		{"no jsonrpc", `{"id":"five","method":"ping"}`, `"five"`, -32600},
		{"nested past the decoder's limit", `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"fhir_search","arguments":{"params":{"k":` + deep(1500) + `}}}}`, "6", -32600},
		{"nested past encoding/json's limit", `{"jsonrpc":"2.0","id":7,"method":"ping","params":` + deep(20000) + `}`, "null", -32600},
		{"batch", `[{"jsonrpc":"2.0","id":8,"method":"ping"},{"jsonrpc":"2.0","id":9,"method":"ping"}]`, "null", -32600},
		{"empty batch", `[]`, "null", -32600},
		{"a number", `42`, "null", -32600},
		{"an object id", `{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, "null", -32600},
		{"a method that is not a string", `{"jsonrpc":"2.0","id":10,"method":7}`, "10", -32600},
		{"neither method nor result", `{"jsonrpc":"2.0","id":11}`, "11", -32600},
		{"a null method", `{"jsonrpc":"2.0","id":12,"method":null}`, "12", -32600},
	}
}

// CheckRefused sends bad, then a ping, and fails unless the server answered bad with its code
// and id, and the ping after it. It returns the refusal's message. n numbers the ping.
func (c *RawClient) CheckRefused(bad BadLine, n int) string {
	c.t.Helper()
	c.Send(bad.Line)
	ping := fmt.Sprintf(`"ping-%d"`, n)
	c.Send(`{"jsonrpc":"2.0","id":` + ping + `,"method":"ping"}`)
	pong, nulls := c.Await(ping)
	if pong["result"] == nil {
		c.t.Fatalf("%s: the ping after it failed: %s", bad.Name, pong["error"])
	}
	var refusal Message
	switch {
	case bad.ID == "null" && len(nulls) == 1:
		refusal = nulls[0]
	case bad.ID != "null" && len(nulls) == 0:
		refusal, _ = c.Await(bad.ID)
	default:
		c.t.Fatalf("%s: %d answers with a null id, want the id %s", bad.Name, len(nulls), bad.ID)
	}
	code, msg := ErrorOf(refusal)
	if code != bad.Code || msg == "" || refusal["result"] != nil {
		c.t.Fatalf("%s: answered %s, want the code %d", bad.Name, refusal["error"], bad.Code)
	}
	return msg
}

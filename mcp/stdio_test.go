package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// startRaw runs the server on a LineTransport over pipes until the test ends, and returns a raw
// client of it. done receives what Run returned.
func startRaw(t *testing.T, env *testenv.Env, maxLine int) (*testenv.RawClient, <-chan error) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- mcp.NewServer(env.Tree.Registry).Run(context.Background(), &mcp.LineTransport{In: inR, Out: outW, MaxLine: maxLine})
		outW.Close()
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return testenv.NewRawClient(t, inW, outR), done
}

// A line that is not a message gets an error answer (-32700 with a null id when it is not JSON,
// -32600 when it is JSON but no message, with the request's id when it has one) and the session
// goes on: a call in flight before the bad lines is answered after them, and new calls work.
func TestBadLinesAreAnsweredAndTheSessionGoesOn(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	p := env.Sandbox.Practices()[0]
	stored := env.Connect(t, p)
	env.Actor(t, stored.ID)
	c, done := startRaw(t, env, 64<<10)
	c.Initialize()

	// A call held at the practice until every bad line has been answered.
	gate := make(chan struct{})
	env.Sandbox.SetFaults(p.Code, sandbox.Faults{Gate: gate})
	c.Send(`{"jsonrpc":"2.0","id":"in-flight","method":"tools/call","params":{"name":"get_patient","arguments":{}}}`)

	lines := append(testenv.BadLines(), testenv.BadLine{Name: "longer than the bound", ID: "null", Code: -32700,
		Line: `{"jsonrpc":"2.0","id":99,"method":"ping","params":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`})
	for i, bl := range lines {
		msg := c.CheckRefused(bl, i)
		if m := goisms.FindString(msg); m != "" {
			t.Fatalf("%s: the error says %q: %s", bl.Name, m, msg)
		}
	}
	// Blank lines carry nothing and get no answer.
	c.Send("")
	c.Send("   \r")
	c.Send(`{"jsonrpc":"2.0","id":"after-blank","method":"ping"}`)
	if _, nulls := c.Await(`"after-blank"`); len(nulls) != 0 {
		t.Fatalf("blank lines were answered: %s", nulls[0]["error"])
	}

	if c.Answered(`"in-flight"`) {
		t.Fatal("the held call was answered before the practice let it through")
	}
	close(gate)
	answer, _ := c.Await(`"in-flight"`)
	var res struct {
		IsError bool `json:"isError"`
		Content []struct{ Text string }
	}
	if err := json.Unmarshal(answer["result"], &res); err != nil || res.IsError || len(res.Content) == 0 || !strings.Contains(res.Content[0].Text, p.PatientID) {
		t.Fatalf("the call in flight: %s %s", answer["result"], answer["error"])
	}
	c.Send(`{"jsonrpc":"2.0","id":"list","method":"tools/list"}`)
	if m, _ := c.Await(`"list"`); !strings.Contains(string(m["result"]), "get_binary") {
		t.Fatalf("tools/list after the bad lines: %.300s", m["error"])
	}
	c.CloseInput()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the session ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the session did not end when its input did")
	}
}

// Params of the wrong shape are the SDK's to refuse, before any tool runs; its errors named Go
// types and struct fields ("into a *mcp.CallToolParamsRaw: json: cannot unmarshal ... into Go
// struct field mcp.CallToolParamsRaw.name of type string") and repeated the params in full.
func TestProtocolErrorsSpeakNoGo(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	c, _ := startRaw(t, env, 0)
	c.Initialize()
	for i, tc := range []struct{ method, params string }{
		{"tools/call", `{"name":5}`},
		{"tools/call", `"x"`},
		{"tools/call", `{"name":"whoami","arguments":{},"_meta":5}`},
		{"tools/list", `{"cursor":5}`},
		{"ping", `[1]`},
		{"logging/setLevel", `{"level":7}`},
	} {
		id := fmt.Sprintf(`"p-%d"`, i)
		c.Send(`{"jsonrpc":"2.0","id":` + id + `,"method":"` + tc.method + `","params":` + tc.params + `}`)
		m, _ := c.Await(id)
		code, msg := testenv.ErrorOf(m)
		if code != -32602 || !strings.Contains(msg, `"`+tc.method+`"`) {
			t.Fatalf("%s %s: answered %s, want -32602 naming the method", tc.method, tc.params, m["error"])
		}
		if g := goisms.FindString(msg); g != "" {
			t.Fatalf("%s %s: the error says %q: %s", tc.method, tc.params, g, msg)
		}
	}
}

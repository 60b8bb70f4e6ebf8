package mcp_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// goisms are what Go's and the SDK's decoding errors say that no model or person can act on: Go
// types, struct fields and package names, and values printed the way Go prints them.
var goisms = regexp.MustCompile(`Go (struct|value)|\bmcp\.|json:|unmarshal|reflect|map\[|\[\]|<invalid|\b(u?int(8|16|32|64)?|float(32|64)|bool|interface)\b|\bstruct\b`)

// wrongFor lists values of the wrong JSON type (or out of range) for a schema type.
var wrongFor = map[string][]string{
	"string":  {`1e30`, `1.5`, `true`, `[1]`, `{"a":1}`, `null`},
	"integer": {`1e30`, `-1e30`, `1.0`, `1.5`, `1.5e3`, `9223372036854775808`, `"1"`, `true`, `[1]`, `{"a":1}`, `null`},
	"boolean": {`"true"`, `1`, `[true]`, `{}`, `null`},
	// patient_summary's practices: a list of names.
	"array": {`"x"`, `1`, `[1]`, `[null]`, `{"a":1}`, `null`},
	// fhir_search's params: an object of strings or lists of strings.
	"object": {`"x"`, `1`, `[1]`, `null`, `{"k":5}`, `{"k":null}`, `{"k":[1]}`, `{"k":{"a":1}}`, `{"k":["a",null]}`},
}

// Every tool, every argument, every wrong type: the error is a tool error that names the
// argument in the tool's own words, with no Go type, struct field or Go-printed value in it.
// It was "cannot unmarshal "1e+30" into Go struct field mcp.binaryIn.offset of type int".
func TestWrongArgumentsAreRefusedInTheToolsWords(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	ctx := context.Background()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	try := func(tool string, args json.RawMessage, mustName string) {
		t.Helper()
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			t.Fatalf("%s %s: protocol error %v", tool, args, err)
		}
		var text strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				text.WriteString(tc.Text)
			}
		}
		if !res.IsError {
			t.Fatalf("%s %s was accepted: %.200s", tool, args, text.String())
		}
		if m := goisms.FindString(text.String()); m != "" {
			t.Fatalf("%s %s: the error says %q: %s", tool, args, m, text.String())
		}
		if !strings.HasPrefix(text.String(), mustName) {
			t.Fatalf("%s %s: the error does not start with %q: %s", tool, args, mustName, text.String())
		}
	}
	checked := 0
	for _, tool := range list.Tools {
		var schema struct {
			Properties map[string]struct{ Type string }
		}
		raw, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		for name, p := range schema.Properties {
			wrong := wrongFor[p.Type]
			if len(wrong) == 0 {
				t.Fatalf("%s.%s has the schema type %q, which this test has no wrong values for", tool.Name, name, p.Type)
			}
			for _, v := range wrong {
				try(tool.Name, json.RawMessage(`{"`+name+`":`+v+`}`), name)
				checked++
			}
		}
		try(tool.Name, json.RawMessage(`{"no_such_argument":"x"}`), "no_such_argument: this tool ")
		try(tool.Name, json.RawMessage(`"x"`), "arguments: ")
		try(tool.Name, json.RawMessage(`[1]`), "arguments: ")
	}
	if checked < 150 {
		t.Fatalf("only %d wrong arguments tried: the test does not see the tools' schemas", checked)
	}
	// The case, in full.
	_, text, _ := callFull(t, cs, "get_binary", map[string]any{"id": "bin-1", "offset": json.RawMessage(`1e30`)})
	if !strings.HasPrefix(text, "offset: 1e30 is not a whole number written in digits") {
		t.Fatalf("get_binary offset 1e30: %s", text)
	}
	_, text, _ = callFull(t, cs, "fhir_get", map[string]any{"resource": "Patient"})
	if !strings.HasPrefix(text, "id is required") {
		t.Fatalf("fhir_get without id: %s", text)
	}
}

package mcp_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// outputSchemas holds each session's tools' output schemas, resolved, by tool name.
var outputSchemas sync.Map // *sdk.ClientSession → map[string]*jsonschema.Resolved

// checked records which tools' results checkOutput has held to their schema, per session.
var checked sync.Map // *sdk.ClientSession → *sync.Map of tool names

// checkOutput holds a successful result to what its tool declares: its structured content fits
// the tool's output schema, and its text block is the same JSON. The server no longer checks
// this on every call (see typed in typed.go), so every call a test makes through call, callOK or
// callFull checks it instead.
func checkOutput(t *testing.T, cs *sdk.ClientSession, name string, res *sdk.CallToolResult) {
	t.Helper()
	if res.IsError {
		return
	}
	schemas, ok := outputSchemas.Load(cs)
	if !ok {
		schemas = resolveOutputs(t, cs)
		outputSchemas.Store(cs, schemas)
	}
	schema := schemas.(map[string]*jsonschema.Resolved)[name]
	if schema == nil {
		return // a tool without an output schema (fhir_get, get_binary) answers in content alone
	}
	if res.StructuredContent == nil {
		t.Fatalf("%s: no structured content, though the tool has an output schema", name)
	}
	if err := schema.Validate(res.StructuredContent); err != nil {
		t.Fatalf("%s: the structured content does not fit the output schema: %v", name, err)
	}
	text, ok := res.Content[0].(*sdk.TextContent)
	if !ok {
		t.Fatalf("%s: the first block is %T, not the result's text", name, res.Content[0])
	}
	var fromText any
	if err := json.Unmarshal([]byte(text.Text), &fromText); err != nil {
		t.Fatalf("%s: the text is not JSON: %v", name, err)
	}
	structured, _ := json.Marshal(res.StructuredContent)
	again, _ := json.Marshal(fromText)
	if string(structured) != string(again) {
		t.Fatalf("%s: the text and the structured content differ:\n%.400s\n%.400s", name, again, structured)
	}
	seen, _ := checked.LoadOrStore(cs, &sync.Map{})
	seen.(*sync.Map).Store(name, true)
}

func resolveOutputs(t *testing.T, cs *sdk.ClientSession) map[string]*jsonschema.Resolved {
	t.Helper()
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*jsonschema.Resolved{}
	for _, tool := range list.Tools {
		if tool.OutputSchema == nil {
			continue
		}
		raw, err := json.Marshal(tool.OutputSchema)
		if err != nil {
			t.Fatal(err)
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		r, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s: the output schema does not resolve: %v", tool.Name, err)
		}
		out[tool.Name] = r
	}
	return out
}

// Every tool with an output schema answers, on the sandbox, with JSON that fits it: a tool added
// later is covered without being named, since the test fails for any tool it did not reach.
func TestResultsFitTheirOutputSchemas(t *testing.T) {
	t.Parallel()
	_, cs, p := connected(t)
	var doc struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	callOK(t, cs, "search_document_reference", nil, &doc)
	if len(doc.Entries) == 0 {
		t.Fatal("the sandbox has no document to read")
	}
	patient, _ := call(t, cs, "get_patient", nil)
	pr := regexp.MustCompile(`Practitioner/([A-Za-z0-9.-]+)`).FindStringSubmatch(patient)
	if pr == nil {
		t.Fatal("the sandbox's patient names no practitioner")
	}
	args := map[string]map[string]any{
		"get_document_reference": {"id": doc.Entries[0].ID},
		"get_practitioner":       {"id": pr[1]},
		"connect_practice":       {"name": "again", "fhir_base_url": p.BaseURL},
		"find_practice":          {"query": "sunrise"},
		"lab_trend":              {"name": "ldl"},
		"search_record":          {"text": "note"},
		"disconnect_practice":    {"practice": "nobody"}, // an error: its success is the last call below
	}
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range list.Tools {
		if tool.OutputSchema == nil || tool.Name == "complete_oauth" || tool.Name == "disconnect_practice" {
			continue
		}
		if _, isErr := call(t, cs, tool.Name, args[tool.Name]); isErr {
			t.Errorf("%s(%v) failed", tool.Name, args[tool.Name])
		}
	}
	// complete_oauth's result was checked when connected() connected through the tools.
	callOK(t, cs, "disconnect_practice", map[string]any{"practice": p.Name}, &struct{}{})

	seen, _ := checked.Load(cs)
	var missed []string
	for _, tool := range list.Tools {
		if _, ok := seen.(*sync.Map).Load(tool.Name); tool.OutputSchema != nil && !ok {
			missed = append(missed, tool.Name)
		}
	}
	if len(missed) > 0 {
		t.Fatalf("results not checked against their output schema: %v", slices.Sorted(slices.Values(missed)))
	}
}

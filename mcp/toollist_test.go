package mcp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/mcp"
)

// toolListBudget is what the model-facing tool list may cost, in bytes. A client sends the
// list with every model turn, so each byte is paid again and again; the issue set 16 KB.
const toolListBudget = 16 << 10

// modelFacingBytes is the size of what a client hands the model for one tool: the compact JSON
// of its name, title, description and input schema, with <, > and & as themselves (as a model
// reads them, not as Go's \u003c escapes). Annotations and the output schema are left out:
// clients use them, and none we know of shows them to the model.
func modelFacingBytes(t *testing.T, tool *sdk.Tool) int {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Name        string `json:"name"`
		Title       string `json:"title,omitempty"`
		Description string `json:"description,omitempty"`
		InputSchema any    `json:"inputSchema"`
	}{tool.Name, tool.Title, tool.Description, tool.InputSchema})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Len() - 1 // the newline Encode adds
}

// TestToolListFitsItsBudget lists the tools through the SDK's client, as a model's client does,
// and fails when what the model reads of them outgrows toolListBudget. The largest tools are
// named, to show where to cut. go test -v -run ToolListFits prints every tool's size.
func TestToolListFitsItsBudget(t *testing.T) {
	t.Parallel()
	type sized struct {
		name  string
		bytes int
	}
	var sizes []sized
	total := 0
	for _, tool := range listTools(t) {
		n := modelFacingBytes(t, tool)
		sizes = append(sizes, sized{tool.Name, n})
		total += n
	}
	slices.SortFunc(sizes, func(a, b sized) int { return b.bytes - a.bytes })
	var table strings.Builder
	for _, s := range sizes {
		fmt.Fprintf(&table, "\n  %-28s %5d", s.name, s.bytes)
	}
	t.Logf("the model-facing tool list is %d bytes (budget %d) in %d tools:%s", total, toolListBudget, len(sizes), table.String())
	if total > toolListBudget {
		t.Errorf("the model-facing tool list is %d bytes, over its budget of %d: shorten descriptions, say shared things once in instructions.md; largest:%s",
			total, toolListBudget, strings.Join(strings.Split(table.String(), "\n")[:min(len(sizes), 5)+1], "\n"))
	}
}

// schemaNode is a JSON schema as a client receives it, with what these tests look at.
type schemaNode struct {
	Type                 json.RawMessage        `json:"type"`
	Enum                 []string               `json:"enum"`
	Minimum              *float64               `json:"minimum"`
	Maximum              *float64               `json:"maximum"`
	Properties           map[string]*schemaNode `json:"properties"`
	Items                *schemaNode            `json:"items"`
	AdditionalProperties json.RawMessage        `json:"additionalProperties"`
	AnyOf                []*schemaNode          `json:"anyOf"`
}

func decodeSchema(t *testing.T, v any) *schemaNode {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var s schemaNode
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// walk calls f on s and every schema inside it, with its path.
func (s *schemaNode) walk(path string, f func(string, *schemaNode)) {
	if s == nil {
		return
	}
	f(path, s)
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		s.Properties[name].walk(path+"."+name, f)
	}
	s.Items.walk(path+"[]", f)
	if len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{' {
		var ap schemaNode
		if json.Unmarshal(s.AdditionalProperties, &ap) == nil {
			ap.walk(path+".*", f)
		}
	}
	for i, a := range s.AnyOf {
		a.walk(fmt.Sprintf("%s|%d", path, i), f)
	}
}

// No schema a client receives has a type union such as ["null", "array"]: the MCP Inspector's
// strict mode warns on each, and the tools never send null nor take it. jsonschema-go infers
// one for every slice and pointer; schemaFor takes them out.
func TestSchemasHaveNoTypeUnions(t *testing.T) {
	t.Parallel()
	walked := 0
	for _, tool := range listTools(t) {
		for kind, schema := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			if schema == nil {
				continue
			}
			decodeSchema(t, schema).walk(tool.Name+" "+kind, func(path string, s *schemaNode) {
				walked++
				if len(s.Type) > 0 && s.Type[0] != '"' {
					t.Errorf("%s: type %s is a union", path, s.Type)
				}
			})
		}
	}
	if walked < 300 {
		t.Fatalf("only %d schemas walked: the test does not see the tools' schemas", walked)
	}
}

// Statuses, intents and the categories the server knows by name are enums, and every number a
// tool takes has its bounds; a page's size is 1 to MaxCount.
func TestEnumsAndBoundsAreInTheSchemas(t *testing.T) {
	t.Parallel()
	enums, counts := 0, 0
	for _, tool := range listTools(t) {
		for name, p := range decodeSchema(t, tool.InputSchema).Properties {
			wantEnum := name == "status" || name == "intent" || name == "clinical_status" || name == "detail" ||
				name == "category" && (tool.Name == "search_observation" || tool.Name == "search_condition")
			if wantEnum != (len(p.Enum) > 0) {
				t.Errorf("%s.%s: enum %v", tool.Name, name, p.Enum)
			}
			if len(p.Enum) > 0 {
				enums++
			}
			if string(p.Type) == `"integer"` && p.Minimum == nil {
				t.Errorf("%s.%s: a number without a minimum", tool.Name, name)
			}
			if name == "count" {
				counts++
				if p.Minimum == nil || *p.Minimum != 1 || p.Maximum == nil || *p.Maximum != mcp.MaxCount {
					t.Errorf("%s.count: minimum %v, maximum %v; want 1 and %d", tool.Name, p.Minimum, p.Maximum, mcp.MaxCount)
				}
			}
		}
	}
	if enums < 10 || counts < 16 {
		t.Fatalf("%d enums and %d counts: the test does not see the tools' schemas", enums, counts)
	}
}

// What a schema's enum lists is exactly what the tool takes: every word is searched with, and
// any other is refused before the practice is asked, naming the field and every word.
func TestEveryEnumWordIsTakenAndNoOther(t *testing.T) {
	t.Parallel()
	env, cs, _ := connected(t)
	tried := 0
	for _, tool := range listTools(t) {
		for _, name := range slices.Sorted(maps.Keys(decodeSchema(t, tool.InputSchema).Properties)) {
			words := decodeSchema(t, tool.InputSchema).Properties[name].Enum
			if len(words) == 0 {
				continue
			}
			before := env.Sandbox.Stats().FHIRRequests
			callErr(t, cs, tool.Name, map[string]any{name: "Final"},
				name+`: "Final" is not one of `+strings.Join(words, ", ")+"; leave it out for any")
			if n := env.Sandbox.Stats().FHIRRequests; n != before {
				t.Errorf("%s.%s: a word not in the enum reached the practice", tool.Name, name)
			}
			for _, w := range words {
				_, text, isErr := callFull(t, cs, tool.Name, map[string]any{name: w, "count": 1})
				if isErr {
					t.Errorf("%s(%s=%s) is refused: %s", tool.Name, name, w, text)
				}
				tried++
			}
		}
	}
	if tried < 50 {
		t.Fatalf("only %d enum words tried", tried)
	}
}

// The caps instructions.md states are the ones the code keeps.
func TestInstructionsStateTheCaps(t *testing.T) {
	t.Parallel()
	got := connect(t, mcp.NewServer(nil)).InitializeResult().Instructions
	for _, want := range []string{
		fmt.Sprintf("default %d, 1 to %d", mcp.DefaultCount, mcp.MaxCount),
		fmt.Sprintf("at most %d KiB of JSON", mcp.MaxResultBytes>>10),
		fmt.Sprintf("up to %d MiB", mcp.MaxBinaryBytes>>20),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the instructions do not say %q", want)
		}
	}
}

package mcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// A 5 MB id once came back as a 5.2 MB error. Every argument a tool quotes in an error is cut
// to quote.Max characters, whichever tool and field carries it.
func TestQuotedInputIsCut(t *testing.T) {
	t.Parallel()
	_, cs := startRogue(t)
	huge := strings.Repeat("x", 5<<20)
	big := strings.Repeat("x", 64<<10) // enough to show the cut; huge once is enough
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"fhir_get", map[string]any{"resource": "Patient", "id": huge}},
		{"fhir_get", map[string]any{"resource": big, "id": "p1"}},
		{"get_practitioner", map[string]any{"id": big}},
		{"get_binary", map[string]any{"id": big}},
		{"get_binary", map[string]any{"url": "https://" + big}},
		{"get_binary", map[string]any{"url": "Binary/" + big}},
		{"search_observation", map[string]any{"code": "a|b|" + big}},
		{"search_observation", map[string]any{"date_from": big}},
		{"search_observation", map[string]any{"status": big}},
		{"search_observation", map[string]any{"encounter": big}},
		{"search_observation", map[string]any{"category": big}},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"_count": big}}},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{big: "1"}}},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"patient": "Patient/" + strings.Repeat("x", 1000)}}},
		{"whoami", map[string]any{"practice": big}},
		{"disconnect_practice", map[string]any{"practice": big}},
		{"connect_practice", map[string]any{"name": "Big", "fhir_base_url": "http://" + big}},
		{"connect_practice", map[string]any{"name": "Big", "fhir_base_url": "https://" + big + ":x/"}},
	} {
		_, text, isErr := callFull(t, cs, tc.tool, tc.args)
		if !isErr || len(text) > 4<<10 || longestRun(text, 'x') > quote.Max {
			t.Errorf("%s: error %v, %d bytes, quoting %d characters of the input: %.300s", tc.tool, isErr, len(text), longestRun(text, 'x'), text)
		}
	}
}

// Every string argument of every tool the server lists, given 64 KiB, is refused with at most
// quote.Max characters of it: a tool or a field added later is covered without being named.
func TestEveryFieldQuotesAtMostItsStart(t *testing.T) {
	t.Parallel()
	_, cs := startRogue(t)
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	tried := 0
	for _, tool := range list.Tools {
		var schema struct {
			Properties map[string]struct {
				Type  string
				Items *struct{ Type string }
			}
		}
		raw, _ := json.Marshal(tool.InputSchema)
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatal(err)
		}
		for name, p := range schema.Properties {
			var v any
			switch {
			case p.Type == "string":
				v = big
			case p.Type == "array" && p.Items != nil && p.Items.Type == "string":
				v = []string{big}
			default:
				continue
			}
			tried++
			_, text, isErr := callFull(t, cs, tool.Name, map[string]any{name: v})
			if !isErr || len(text) > 4<<10 || longestRun(text, 'x') > quote.Max {
				t.Errorf("%s.%s: error %v, %d bytes, quoting %d characters of the input: %.300s", tool.Name, name, isErr, len(text), longestRun(text, 'x'), text)
			}
		}
	}
	if tried < 100 {
		t.Fatalf("only %d string arguments tried: the test does not see the tools' schemas", tried)
	}
}

package mcp_test

import (
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

package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// callRaw runs a tool and returns everything the client received for it, structured content
// included, as JSON.
func callRaw(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v", name, err)
	}
	raw, _ := json.Marshal(res)
	return string(raw)
}

// A practice that echoes the request's Authorization header inside a 200 answer (an
// OperationOutcome entry saying "You sent Authorization: Bearer ...", a resource's text, a
// document) gets the token into no tool result: the actor removes it from every body it hands
// on, and outcomes that become a note are redacted as errors are. (A token the practice writes
// inside base64 data is not looked for: only an echo is, not a practice bent on it.)
func TestTokenEchoedInA200NeverReachesTheClient(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	r.set(func(w http.ResponseWriter, req *http.Request) {
		echo := "You sent Authorization: " + req.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/fhir+json")
		parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/"), "/")
		obs := func(id string) string {
			return fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final","subject":{"reference":"Patient/pat-1"},"code":{"text":%q},"note":[{"text":%q}]}`, id, echo, echo)
		}
		switch {
		case parts[0] == "DocumentReference": // the patient's document that holds b1
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"DocumentReference","id":"d1",`+
				`"subject":{"reference":"Patient/pat-1"},"content":[{"attachment":{"url":"Binary/b1"}}]}}]}`)
		case parts[0] == "Binary": // as some eCW builds send it: the raw content
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, echo)
		case len(parts) > 1:
			fmt.Fprint(w, obs(parts[1]))
		default:
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":%s,"search":{"mode":"match"}},`+
				`{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"informational","diagnostics":%q}]},"search":{"mode":"outcome"}}]}`,
				obs("o1"), echo+"; an older one was Bearer old-token-0123456789")
		}
	}, false)
	var seen []string
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"search_observation", nil},
		{"fhir_search", map[string]any{"resource": "Observation"}},
		{"fhir_get", map[string]any{"resource": "Observation", "id": "o1"}},
		{"get_binary", map[string]any{"id": "b1"}},
	} {
		got := callRaw(t, cs, c.tool, c.args)
		if !strings.Contains(got, "You sent Authorization: Bearer [redacted]") {
			t.Fatalf("%s: the echo did not come through: %.400s", c.tool, got)
		}
		seen = append(seen, got)
	}
	if !strings.Contains(seen[0], "The practice said: warning: You sent Authorization: Bearer [redacted]; an older one was Bearer [redacted]") {
		t.Errorf("the outcome's note: %.600s", seen[0])
	}
	for _, got := range seen {
		for _, tok := range r.tokens() {
			if strings.Contains(got, tok) {
				t.Fatalf("the client received %q in %.600s", tok, got)
			}
		}
	}
	// A credential the actor does not hold is redacted where the practice's words become a note;
	// fhir_search passes the outcome entry itself on as data.
	if strings.Contains(seen[0], "old-token") {
		t.Fatalf("the note repeats an older token: %.600s", seen[0])
	}
}

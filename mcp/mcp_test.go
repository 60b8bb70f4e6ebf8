package mcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

// session connects the SDK's client to the real server over in-memory transports.
func session(t *testing.T, env *testenv.Env) *sdk.ClientSession {
	t.Helper()
	return connect(t, mcp.NewServer(env.Tree.Registry, inProcessPDFs))
}

// inProcessPDFs has the server read PDFs in the test binary, with recordindex.PDFText. A fatal
// error in the PDF parser would end this binary, not a user's server, and the PDFs here are the
// sandbox's and those of the tests; healow serve and demo read PDFs in a child process.
var inProcessPDFs = mcp.ReadPDFs(recordindex.PDFText)

// connect joins s to the SDK's client until the test ends, as healow demo does.
func connect(t *testing.T, s *sdk.Server) *sdk.ClientSession {
	t.Helper()
	cs, end, err := mcp.ConnectInMemory(context.Background(), s, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(end)
	return cs
}

// call runs a tool and returns its first text block (the JSON a tool returns), all its text,
// and whether it was a tool error.
func call(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	first, _, isErr := callFull(t, cs, name, args)
	return first, isErr
}

func callFull(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any) (first, all string, isErr bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v", name, err)
	}
	checkOutput(t, cs, name, res)
	var text strings.Builder
	for i, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			if i == 0 {
				first = tc.Text
			}
			text.WriteString(tc.Text + "\n")
		}
	}
	return first, text.String(), res.IsError
}

func callOK(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, v any) {
	t.Helper()
	text, all, isErr := callFull(t, cs, name, args)
	if isErr {
		t.Fatalf("%s(%v): tool error: %s", name, args, all)
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%s: %v in %.300s", name, err, text)
	}
}

func callErr(t *testing.T, cs *sdk.ClientSession, name string, args map[string]any, want ...string) {
	t.Helper()
	_, text, isErr := callFull(t, cs, name, args)
	if !isErr {
		t.Fatalf("%s(%v) succeeded: %.200s", name, args, text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("%s(%v) error %q does not say %q", name, args, text, w)
		}
	}
}

// connectThroughTools connects a sandbox practice the way a model would.
// connectBoth connects the sandbox's two practices through the tools, and returns them.
func connectBoth(t *testing.T, env *testenv.Env, cs *sdk.ClientSession) (sunrise, lakeside sandbox.Practice) {
	t.Helper()
	sunrise, lakeside = env.Sandbox.Practices()[0], env.Sandbox.Practices()[1]
	connectThroughTools(t, env, cs, sunrise)
	connectThroughTools(t, env, cs, lakeside)
	return sunrise, lakeside
}

func connectThroughTools(t *testing.T, env *testenv.Env, cs *sdk.ClientSession, p sandbox.Practice) string {
	t.Helper()
	var started struct {
		AuthorizeURL string `json:"authorize_url"`
		State        string `json:"state"`
	}
	callOK(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &started)
	redirect, err := env.Sandbox.Consent(context.Background(), started.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	var done struct {
		Practice   string `json:"practice"`
		PracticeID string `json:"practice_id"`
		PatientID  string `json:"patient_id"`
	}
	callOK(t, cs, "complete_oauth", map[string]any{"code": redirect}, &done)
	if done.Practice != p.Name || done.PatientID != p.PatientID {
		t.Fatalf("complete_oauth = %+v, want %s / %s", done, p.Name, p.PatientID)
	}
	return done.PracticeID
}

func TestConnectAndReadThroughTools(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	ps := env.Sandbox.Practices()
	callErr(t, cs, "whoami", nil, "no practice is connected", "connect_practice")

	id := connectThroughTools(t, env, cs, ps[0])
	// With one practice, `practice` may be left out.
	var who struct {
		ID        string   `json:"id"`
		PatientID string   `json:"patient_id"`
		Scopes    []string `json:"scopes"`
		State     string   `json:"state"`
	}
	callOK(t, cs, "whoami", nil, &who)
	if who.ID != id || who.PatientID != ps[0].PatientID || len(who.Scopes) == 0 || who.State != "ready" {
		t.Fatalf("whoami = %+v", who)
	}
	var patient struct{ ResourceType, ID string }
	callOK(t, cs, "fhir_get", map[string]any{"resource": "Patient", "id": ps[0].PatientID}, &patient)
	if patient.ResourceType != "Patient" || patient.ID != ps[0].PatientID {
		t.Fatalf("fhir_get = %+v", patient)
	}

	connectThroughTools(t, env, cs, ps[1])
	callErr(t, cs, "whoami", nil, "2 practices are connected", ps[0].Name, ps[1].Name)
	var list struct {
		Practices []struct{ Name string } `json:"practices"`
	}
	callOK(t, cs, "list_practices", nil, &list)
	if len(list.Practices) != 2 {
		t.Fatalf("list_practices = %+v", list)
	}
	callOK(t, cs, "whoami", map[string]any{"practice": ps[1].Name}, &who)
	if who.PatientID != ps[1].PatientID {
		t.Fatalf("whoami %s = %+v", ps[1].Name, who)
	}
}

type bundle struct {
	ResourceType string `json:"resourceType"`
	Total        int    `json:"total"`
	Link         []struct{ Relation, URL string }
	Entry        []struct {
		Resource struct {
			ResourceType      string `json:"resourceType"`
			EffectiveDateTime string `json:"effectiveDateTime"`
		} `json:"resource"`
	} `json:"entry"`
}

func (b bundle) next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

func TestSearchPagesAndRepeatsKeys(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, p)

	var first bundle
	callOK(t, cs, "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"category": "laboratory"}}, &first)
	seen := len(first.Entry)
	for b := first; b.next() != ""; {
		var page bundle
		callOK(t, cs, "fhir_search", map[string]any{"next": b.next()}, &page)
		seen += len(page.Entry)
		b = page
	}
	if first.Total <= len(first.Entry) || seen != first.Total {
		t.Fatalf("total %d, first page %d, paged through %d", first.Total, len(first.Entry), seen)
	}

	var ranged bundle
	callOK(t, cs, "fhir_search", map[string]any{"resource": "Observation",
		"params": map[string]any{"category": "laboratory", "date": []string{"ge2024-01-01", "le2024-12-31"}, "_count": "50"}}, &ranged)
	if ranged.Total == 0 || ranged.Total >= first.Total {
		t.Fatalf("a date range should narrow %d results, got %d", first.Total, ranged.Total)
	}
	for _, e := range ranged.Entry {
		if d := e.Resource.EffectiveDateTime; d < "2024-01-01" || d > "2024-12-31T23:59:59Z" {
			t.Fatalf("result dated %s outside the range", d)
		}
	}
}

func TestBadInputIsRefusedWithTheRule(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, p)
	before := env.Sandbox.Stats().FHIRRequests
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"fhir_get", map[string]any{"resource": "Patients", "id": "x"}, "resource:"},
		{"fhir_get", map[string]any{"resource": "Patient", "id": "../../Observation"}, "id:"},
		{"fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"bad name": "x"}}, "params:"},
		{"fhir_search", map[string]any{"next": "https://evil.example/fhir/r4/" + p.Code + "/Observation"}, "outside the practice's FHIR base"},
		{"fhir_search", map[string]any{"next": strings.Replace(p.BaseURL, p.Code, "AACJCD", 1) + "/Observation"}, "outside"},
		{"fhir_get", map[string]any{"practice": "Nowhere", "resource": "Patient", "id": "x"}, "unknown practice"},
		{"connect_practice", map[string]any{"name": "Plain", "fhir_base_url": "http://fhir.example/r4/ABC"}, "https"},
		{"complete_oauth", map[string]any{"code": "abc", "state": "never-issued"}, "start the connection again"},
	} {
		callErr(t, cs, tc.tool, tc.args, tc.want)
	}
	if after := env.Sandbox.Stats().FHIRRequests; after != before {
		t.Fatalf("%d requests reached the practice for refused input", after-before)
	}
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Observation", "id": "someone-else"}, "HTTP 404")
}

func TestConsentRefusedSaysSo(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	env.Sandbox.SetFaults(p.Code, sandbox.Faults{DenyConsent: true})
	var started struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	callOK(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &started)
	redirect, err := env.Sandbox.Consent(context.Background(), started.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	text, isErr := call(t, cs, "complete_oauth", map[string]any{"code": redirect})
	if !isErr || !strings.Contains(strings.ToLower(text), "denied") && !strings.Contains(strings.ToLower(text), "refused") {
		t.Fatalf("complete_oauth after refusal: %v %s", isErr, text)
	}
}

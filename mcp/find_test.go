package mcp_test

import (
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

type found struct {
	Practices []struct {
		Name, Address, Code string
		FHIRBaseURL         string `json:"fhir_base_url"`
	}
	Note string
}

func (f found) names() string {
	var out []string
	for _, p := range f.Practices {
		out = append(out, p.Name)
	}
	return strings.Join(out, " | ")
}

// A model finds a practice in the sandbox's directory by words of its name, its place or its
// code, and connects it with the base URL it was given, never a guessed one.
func TestFindPracticeThenConnectIt(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	sunrise, lakeside := env.Sandbox.Practices()[0], env.Sandbox.Practices()[1]

	var f found
	callOK(t, cs, "find_practice", map[string]any{"query": "sunrise"}, &f)
	if f.names() != "Sunrise Dental Care | Sunrise Family Medicine" || f.Note != "" {
		t.Fatalf("sunrise: %+v", f) // not the closed one, whose endpoint is off
	}
	row := f.Practices[1]
	if row.FHIRBaseURL != sunrise.BaseURL || row.Code != sunrise.Code || row.Address != "100 Example Parkway, Suite 200, Anytown, IL 62701" {
		t.Fatalf("the row: %+v, want %s", row, sunrise.BaseURL)
	}
	callOK(t, cs, "find_practice", map[string]any{"query": strings.ToLower(lakeside.Code)}, &f)
	if len(f.Practices) != 1 || f.Practices[0].FHIRBaseURL != lakeside.BaseURL {
		t.Fatalf("by code: %+v", f)
	}
	callOK(t, cs, "find_practice", map[string]any{"query": "pediatrics in Wisconsin"}, &f)
	if f.names() != "Lakeview Pediatrics" {
		t.Fatalf("by place: %+v", f)
	}
	callOK(t, cs, "find_practice", map[string]any{"query": "cardiology"}, &f)
	if len(f.Practices) != 0 || !strings.Contains(f.Note, "No practice of the directory's 5 matches") {
		t.Fatalf("no match: %+v", f)
	}
	if n := env.Sandbox.Stats().Directory; n != 1 {
		t.Fatalf("the directory was downloaded %d times", n)
	}

	connectThroughTools(t, env, cs, sandbox.Practice{Name: sunrise.Name, BaseURL: row.FHIRBaseURL, PatientID: sunrise.PatientID})
	var list struct {
		Practices []struct {
			FHIRBaseURL string `json:"fhir_base_url"`
		}
	}
	callOK(t, cs, "list_practices", nil, &list)
	if len(list.Practices) != 1 || list.Practices[0].FHIRBaseURL != sunrise.BaseURL {
		t.Fatalf("%+v", list)
	}
}

// A query is refused, saying what to give, before the directory is downloaded.
func TestFindPracticeRefusesHostileQueries(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	for _, q := range []string{"", "   ", strings.Repeat("sunrise ", 40), "sunrise\u202e", "a\nb", "\x00"} {
		callErr(t, cs, "find_practice", map[string]any{"query": q}, "query: ", "practice's name, a city, a state or its code")
	}
	if n := env.Sandbox.Stats().Directory; n != 0 {
		t.Fatalf("a refused query downloaded the directory (%d requests)", n)
	}
}

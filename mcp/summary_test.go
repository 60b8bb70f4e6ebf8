package mcp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type summary struct {
	Patient, Problems, Medications, Allergies, Immunizations, Vitals, Labs []struct {
		Name, Value, Flag, Date string
		From                    []string
	}
	Practices []struct{ Name, State, Error string }
	Note      string
}

// One call summarises the record at every practice, each fact tagged with where it is held, in
// a few kilobytes; a practice that cannot answer is named with what to do, and the others still
// answer.
func TestPatientSummary(t *testing.T) {
	t.Parallel()
	// The sandbox's records run to late 2024; its clock is then, so the last two years hold labs.
	clock := actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Clock: clock})
	cs := session(t, env)
	sunrise, lakeside := connectBoth(t, env, cs)

	text, isErr := call(t, cs, "patient_summary", nil)
	var s summary
	decodeJSON(t, text, &s)
	if isErr || len(text) > 8<<10 {
		t.Fatalf("error %v, %d bytes", isErr, len(text))
	}
	t.Logf("two practices: %d bytes", len(text))
	holds := func(what string, list []struct {
		Name, Value, Flag, Date string
		From                    []string
	}, name, from string) {
		t.Helper()
		for _, it := range list {
			if strings.Contains(it.Name, name) && strings.Join(it.From, ",") == from {
				return
			}
		}
		t.Errorf("%s does not list %q from %s: %+v", what, name, from, list)
	}
	holds("problems", s.Problems, "Type 2 diabetes", sunrise.Name)
	holds("problems", s.Problems, "Asthma", lakeside.Name)
	holds("medications", s.Medications, "metformin", sunrise.Name)
	holds("medications", s.Medications, "levothyroxine", lakeside.Name)
	holds("allergies", s.Allergies, "Peanut", lakeside.Name)
	holds("immunizations", s.Immunizations, "Tdap", sunrise.Name)
	holds("vitals", s.Vitals, "Blood pressure", lakeside.Name)
	holds("labs", s.Labs, "Hemoglobin A1c", sunrise.Name)
	holds("labs", s.Labs, "Thyrotropin", lakeside.Name)
	for _, m := range s.Medications {
		if strings.Contains(m.Name, "azithromycin") {
			t.Errorf("a stopped prescription is listed: %+v", m)
		}
	}
	// The latest of each test only: one A1c from Sunrise, the newest.
	a1c := 0
	for _, l := range s.Labs {
		if strings.Contains(l.Name, "A1c") {
			a1c++
		}
	}
	if a1c != 1 || len(s.Practices) != 2 || s.Practices[0].State != "answered" || s.Practices[1].State != "answered" {
		t.Fatalf("%d A1c results, practices %+v", a1c, s.Practices)
	}

	// A practice that stops honouring its tokens fails alone, with what to do.
	env.Sandbox.SetFaults(lakeside.Code, sandbox.Faults{RejectAccess: true})
	decodeJSON(t, mustCall(t, cs, "patient_summary", nil), &s)
	for _, p := range s.Practices {
		switch p.Name {
		case lakeside.Name:
			if p.State != "failed" || !strings.Contains(p.Error, "healow connect") {
				t.Errorf("the failing practice: %+v", p)
			}
		case sunrise.Name:
			if p.State != "answered" {
				t.Errorf("the healthy practice: %+v", p)
			}
		}
	}
	if len(s.Problems) == 0 || strings.Contains(mustCall(t, cs, "patient_summary", map[string]any{"practices": []string{sunrise.Name}}), lakeside.Name) {
		t.Fatal("the healthy practice's record is missing, or a practice not named was asked")
	}
	callErr(t, cs, "patient_summary", map[string]any{"practices": []string{"Nowhere"}}, "practices:", "unknown practice")
}

func decodeJSON(t *testing.T, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%v: %.300s", err, text)
	}
}

func mustCall(t *testing.T, cs *sdk.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	text, isErr := call(t, cs, tool, args)
	if isErr {
		t.Fatalf("%s: %s", tool, text)
	}
	return text
}

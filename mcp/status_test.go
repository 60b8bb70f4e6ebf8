package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/vault"
)

type statusReply struct {
	Practices []struct {
		ID               string    `json:"id"`
		Name             string    `json:"name"`
		State            string    `json:"state"`
		Healthy          bool      `json:"healthy"`
		Advice           string    `json:"advice"`
		TokenSecondsLeft int64     `json:"token_seconds_left"`
		LastHTTPStatus   int       `json:"last_http_status"`
		Succeeded        int       `json:"succeeded"`
		Failed           int       `json:"failed"`
		RateLimitedUntil time.Time `json:"rate_limited_until"`
	} `json:"practices"`
}

// The model learns why a practice does not answer, and what the user can do about it.
func TestPracticeStatusTool(t *testing.T) {
	t.Parallel()
	// A clock early in a minute, so that the hold after a 429 (until the minute turns) lasts.
	env := testenv.Start(t, testenv.Options{Clock: testenv.EarlyInTheMinute()})
	cs := session(t, env)
	ps := env.Sandbox.Practices()
	connectThroughTools(t, env, cs, ps[0])
	connectThroughTools(t, env, cs, ps[1])
	var me struct{}
	callOK(t, cs, "get_patient", map[string]any{"practice": ps[0].Name}, &me)
	env.Sandbox.SetFaults(ps[1].Code, sandbox.Faults{TooManyRequests: true})
	// A 429, and the hold until the minute turns, which this clock never reaches.
	callErr(t, cs, "get_patient", map[string]any{"practice": ps[1].Name}, "429")
	var s statusReply
	callOK(t, cs, "practice_status", map[string]any{"practice": ps[1].Name}, &s)
	if s.Practices[0].State != "rate-limited" {
		t.Fatalf("not rate-limited: %+v", s)
	}

	var all statusReply
	callOK(t, cs, "practice_status", nil, &all)
	if len(all.Practices) != 2 {
		t.Fatalf("practice_status = %+v", all)
	}
	for _, p := range all.Practices {
		switch p.Name {
		case ps[0].Name:
			if p.State != "ready" || !p.Healthy || p.Succeeded != 1 || p.TokenSecondsLeft <= 0 || p.Advice != "" {
				t.Fatalf("healthy practice: %+v", p)
			}
		case ps[1].Name:
			if p.State != "rate-limited" || p.Healthy || p.LastHTTPStatus != 429 || p.RateLimitedUntil.IsZero() || !strings.Contains(p.Advice, "rate limit") {
				t.Fatalf("rate-limited practice: %+v", p)
			}
		}
	}
	var one statusReply
	callOK(t, cs, "practice_status", map[string]any{"practice": ps[1].Name}, &one)
	if len(one.Practices) != 1 || one.Practices[0].Name != ps[1].Name {
		t.Fatalf("one practice: %+v", one)
	}
	text, _ := call(t, cs, "practice_status", nil)
	for _, p := range ps {
		if strings.Contains(text, p.PatientID) {
			t.Fatal("practice_status names the patient")
		}
	}
	callErr(t, cs, "practice_status", map[string]any{"practice": "Nowhere"}, "unknown practice")
}

// Every read of patient data leaves one audit row: tool, resource type, how many, outcome;
// the CapabilityStatement, which is not patient data, leaves none.
func TestToolsLeaveAnAuditTrail(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	id := connectThroughTools(t, env, cs, p)
	var page struct {
		Returned int  `json:"returned"`
		Total    *int `json:"total"`
	}
	callOK(t, cs, "search_observation", map[string]any{"category": "laboratory", "count": 5}, &page)
	var me struct{}
	callOK(t, cs, "get_patient", nil, &me)
	callOK(t, cs, "get_capability_statement", nil, &me)
	callErr(t, cs, "fhir_get", map[string]any{"resource": "Observation", "id": "no-such-thing"}, "not found")

	want := []vault.Access{
		// The search read every match to order them, and the trail counts what it read.
		{Tool: "search_observation", ResourceType: "Observation", Resources: *page.Total, Outcome: "ok"},
		{Tool: "get_patient", ResourceType: "Patient", Resources: 1, Outcome: "ok"},
		{Tool: "fhir_get", ResourceType: "Observation", Resources: 0, Outcome: "http-404"},
	}
	if err := env.Tree.Registry.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := env.Store.Audit(context.Background(), vault.AuditQuery{Practice: p.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("audit rows = %+v", rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Tool != w.Tool || r.ResourceType != w.ResourceType || r.Resources != w.Resources || r.Outcome != w.Outcome ||
			r.PracticeID != id || r.PracticeName != p.Name || r.PID == 0 {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if page.Returned != 5 {
		t.Fatalf("returned %d", page.Returned)
	}
}

// disconnect_practice forgets the practice and its tokens; the tools stop serving it at once.
func TestDisconnectPracticeTool(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	id := connectThroughTools(t, env, cs, p)
	callErr(t, cs, "disconnect_practice", map[string]any{}, "practice")
	var out struct {
		Practice   string `json:"practice"`
		PracticeID string `json:"practice_id"`
		Revoked    bool   `json:"revoked"`
		Revocation string `json:"revocation"`
	}
	callOK(t, cs, "disconnect_practice", map[string]any{"practice": p.Name}, &out)
	if out.PracticeID != id || out.Revoked || out.Revocation == "" {
		t.Fatalf("disconnect_practice = %+v", out)
	}
	callErr(t, cs, "whoami", nil, "no practice is connected")
	if _, err := env.Secrets.Get(id, vault.RefreshToken); err == nil {
		t.Fatal("the refresh token survived")
	}
	callErr(t, cs, "disconnect_practice", map[string]any{"practice": p.Name}, "unknown practice")
}

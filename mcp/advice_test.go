package mcp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
)

// What the tools tell a person to do fits how healow was installed: a user of the MCP bundle has
// no healow on the PATH and is sent to the tools alone; a user of the command may run it too.
// Each piece of advice is met the way a user meets it: no practice yet, a grant the practice
// revoked (the failed call, and practice_status).
func TestAdviceFitsTheInstall(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		how       advice.Install
		reconnect string // how the advice to connect the revoked practice again begins
		command   bool   // whether advice may name the healow command
	}{
		{"command", advice.Command, "run `healow connect --name", true},
		{"bundle", advice.Bundle, "connect it again with the connect_practice tool (name ", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := actor.NewFake(time.Now())
			env := testenv.Start(t, testenv.Options{Clock: clock, Practice: practice.Options{Install: tt.how}})
			cs := session(t, env)
			check := func(what, text string, want ...string) {
				t.Helper()
				for _, w := range want {
					if !strings.Contains(text, w) {
						t.Errorf("%s: %q does not say %q", what, text, w)
					}
				}
				if names := strings.Contains(text, "`healow "); names != tt.command {
					t.Errorf("%s names the healow command: %v, want %v: %q", what, names, tt.command, text)
				}
			}

			_, text, _ := callFull(t, cs, "whoami", nil)
			check("whoami with no practice", text, "no practice is connected", "connect_practice")
			_, text, _ = callFull(t, cs, "patient_summary", nil)
			check("patient_summary with no practice", text, "no practice is connected", "connect_practice")

			p := env.Sandbox.Practices()[0]
			env.Actor(t, env.Connect(t, p).ID) // served by the registry
			env.Sandbox.SetFaults(p.Code, sandbox.Faults{RevokeRefresh: true})
			clock.Advance(2 * time.Hour) // the access token has expired, and renewing it is refused
			_, text, isErr := callFull(t, cs, "get_patient", nil)
			if !isErr {
				t.Fatalf("get_patient with a revoked grant succeeded: %.200s", text)
			}
			check("get_patient with a revoked grant", text, tt.reconnect, p.BaseURL)

			var status struct {
				Practices []struct {
					State  string `json:"state"`
					Advice string `json:"advice"`
				} `json:"practices"`
			}
			callOK(t, cs, "practice_status", nil, &status)
			if len(status.Practices) != 1 || status.Practices[0].State != string(practice.StateNeedsReconnect) {
				t.Fatalf("practice_status = %+v", status)
			}
			check("practice_status's advice", status.Practices[0].Advice, tt.reconnect)
		})
	}
}

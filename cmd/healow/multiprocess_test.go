package main

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestTwoServersShareOnePractice runs two `healow serve` processes, as Claude Desktop and another
// client would, against one practice whose access tokens live two seconds and whose refresh
// tokens are single-use. Many calls across several token lifetimes must all succeed: the two
// processes never spend the same refresh token, so the practice never needs reconnecting.
func TestTwoServersShareOnePractice(t *testing.T) {
	requireKeychain(t)
	if testing.Short() {
		t.Skip("takes several token lifetimes")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(clientEnv(t, "mp", dir, ca),
		"HEALOW_ALLOWED_HOSTS=127.0.0.1",
		// Eight callers send about 160 requests a second, far past eCW's 250 a minute: this is a
		// test of sharing refresh tokens, not of the budget (supervisor.TestTwoProcessesKeepOneBudgetPerMinute).
		"HEALOW_RATE_LIMIT=1000000",
	))
	base := c.sandbox(t, ca, "--token-ttl", "2s").bases["FEIGCD"]

	var id string
	step(t, "connect", func(t *testing.T) { id = c.connect(t, "Shared", base, signInAt(ca)).id })
	t.Cleanup(func() { deleteKeychainItems(id) })

	sessions := []*sdk.ClientSession{c.serve(t, "mp", nil), c.serve(t, "mp", nil)}
	var who struct {
		ID        string `json:"id"`
		PatientID string `json:"patient_id"`
	}
	step(t, "whoami", func(t *testing.T) {
		callJSON(t, ctx, sessions[0], "whoami", nil, &who)
		if who.ID != id {
			t.Fatalf("whoami is practice %s, healow connect made %s", who.ID, id)
		}
	})

	step(t, "eight callers on two servers across three token lifetimes", func(t *testing.T) {
		var wg sync.WaitGroup
		deadline := time.Now().Add(7 * time.Second) // three and a half token lifetimes
		for worker := range 8 {
			wg.Go(func() {
				cs := sessions[worker%2]
				for time.Now().Before(deadline) {
					res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "fhir_get",
						Arguments: map[string]any{"resource": "Patient", "id": who.PatientID}})
					if err != nil {
						t.Errorf("worker %d: %v", worker, err)
						return
					}
					if res.IsError {
						t.Errorf("worker %d: %s", worker, res.Content[0].(*sdk.TextContent).Text)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
		}
		wg.Wait()
	})

	step(t, "neither server needs a reconnect", func(t *testing.T) {
		for i, cs := range sessions {
			var list struct {
				Practices []struct{ State string } `json:"practices"`
			}
			callJSON(t, ctx, cs, "list_practices", nil, &list)
			if len(list.Practices) != 1 || list.Practices[0].State == "needs-reconnect" {
				t.Fatalf("server %d: %+v", i, list)
			}
			cs.Close()
		}
	})
}

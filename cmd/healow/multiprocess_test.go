package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/vault"
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
	bin := buildBinary(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	env := append(os.Environ(),
		"HEALOW_CLIENT_ID=mp-client", "HEALOW_CLIENT_SECRET=mp-secret-"+randomHex(t),
		"HEALOW_REDIRECT_URI=http://127.0.0.1:"+freePort(t)+"/callback",
		"HEALOW_TOKEN_STORE="+filepath.Join(dir, "store", "tokens.db"),
		"SSL_CERT_FILE="+ca,
		"HEALOW_ALLOWED_HOSTS=127.0.0.1",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var base string
	for _, b := range startSandbox(t, ctx, bin, env, ca, "--token-ttl", "2s") {
		base = b
		break
	}
	connectWithBinary(t, ctx, bin, env, ca, "Shared", base)

	var sessions []*sdk.ClientSession
	for range 2 {
		serve := exec.Command(bin, "serve")
		serve.Env = env
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "mp"}, nil).Connect(ctx, &sdk.CommandTransport{Command: serve}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, cs)
	}
	var who struct {
		ID        string `json:"id"`
		PatientID string `json:"patient_id"`
	}
	callJSON(t, ctx, sessions[0], "whoami", nil, &who)
	t.Cleanup(func() { deleteKeychainItems(who.ID) })

	var wg sync.WaitGroup
	deadline := time.Now().Add(7 * time.Second) // three and a half token lifetimes
	for worker := range 8 {
		wg.Go(func() {
			cs := sessions[worker%2]
			for time.Now().Before(deadline) {
				res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "fhir_get",
					Arguments: map[string]any{"resource": "Patient", "id": who.PatientID}})
				if err != nil || res.IsError {
					t.Errorf("worker %d: %v %v", worker, err, res)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
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
}

// deleteKeychainItems removes what a test stored in the real keychain.
func deleteKeychainItems(id string) {
	kc := vault.NewKeychain()
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		kc.Delete(id, kind)
	}
}

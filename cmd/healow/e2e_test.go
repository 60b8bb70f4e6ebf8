package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/vault"
)

// TestBinaryEndToEnd runs the built binary as a person with Claude Desktop would: `healow
// sandbox` in the background, `healow connect` in its own process with a loopback redirect that
// a browser follows, then `healow serve` over stdio driven by the MCP SDK's client, with the
// tokens in the real OS keychain.
func TestBinaryEndToEnd(t *testing.T) {
	requireKeychain(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "sandbox-ca.pem")
	storePath := filepath.Join(dir, "store", "tokens.db")
	secret := "e2e-secret-" + randomHex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(os.Environ(),
		"HEALOW_CLIENT_ID=e2e-client",
		"HEALOW_CLIENT_SECRET="+secret,
		"HEALOW_REDIRECT_URI=http://127.0.0.1:"+freePort(t)+"/callback",
		"HEALOW_TOKEN_STORE="+storePath,
		"SSL_CERT_FILE="+ca,
		"HEALOW_LOG_LEVEL=debug",
	))
	sb := c.sandbox(t, ca)
	base := sb.bases["FEIGCD"]

	step(t, "the sandbox says how to allow it", func(t *testing.T) {
		if sb.allow != "HEALOW_ALLOWED_HOSTS=127.0.0.1" {
			t.Fatalf("the sandbox says to export %q (stderr: %s)", sb.allow, sb.log.String())
		}
	})

	// Without the sandbox in HEALOW_ALLOWED_HOSTS, healow connect refuses it before any request,
	// and says how to allow it; a malformed list is refused at the start.
	step(t, "connect refuses a host that is not allowed", func(t *testing.T) {
		for _, tc := range []struct{ list, want string }{
			{"", "add 127.0.0.1 to HEALOW_ALLOWED_HOSTS"},
			{"fhir4.example.org", "127.0.0.1 is not one of eClinicalWorks' FHIR servers"},
			{"https://127.0.0.1", `HEALOW_ALLOWED_HOSTS: "https://127.0.0.1" has a scheme`},
		} {
			text, status := c.with("HEALOW_ALLOWED_HOSTS="+tc.list).run(t, "connect", "--name", "Sunrise", "--fhir-base-url", base, "--no-browser")
			if status == 0 || !strings.Contains(text, tc.want) {
				t.Fatalf("connect with HEALOW_ALLOWED_HOSTS=%q: exit %d, %q; want it refused with %q", tc.list, status, text, tc.want)
			}
		}
	})
	c = c.with(sb.allow)

	// healow connect, with a "browser" that follows the authorize URL to the loopback redirect.
	var conn connected
	step(t, "connect", func(t *testing.T) {
		conn = c.connect(t, "Sunrise", base, signInAt(ca))
		if !strings.Contains(conn.printed, `Connected "Sunrise"`) {
			t.Fatalf("connect printed %q", conn.printed)
		}
	})
	t.Cleanup(func() { deleteKeychainItems(conn.id) })

	// healow serve over stdio, as Claude Desktop runs it.
	var serveLog lockedBuffer
	var id, patient string
	step(t, "serve", func(t *testing.T) {
		cs := c.serve(t, "e2e", &serveLog)
		step(t, "list_practices", func(t *testing.T) {
			var list struct {
				Practices []struct {
					ID, Name, State string
					PatientID       string `json:"patient_id"`
				}
			}
			callJSON(t, ctx, cs, "list_practices", nil, &list)
			if len(list.Practices) != 1 || list.Practices[0].Name != "Sunrise" || list.Practices[0].PatientID == "" || list.Practices[0].ID != conn.id {
				t.Fatalf("list_practices = %+v", list)
			}
			id, patient = list.Practices[0].ID, list.Practices[0].PatientID
		})
		step(t, "fhir_get and a paged fhir_search", func(t *testing.T) {
			var p struct{ ResourceType, ID string }
			callJSON(t, ctx, cs, "fhir_get", map[string]any{"resource": "Patient", "id": patient}, &p)
			if p.ResourceType != "Patient" || p.ID != patient {
				t.Fatalf("fhir_get Patient = %+v", p)
			}
			var b bundle
			callJSON(t, ctx, cs, "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"category": "laboratory"}}, &b)
			if b.Total <= len(b.Entry) || b.next() == "" {
				t.Fatalf("laboratory search: total %d, %d entries, next %q", b.Total, len(b.Entry), b.next())
			}
			var page2 bundle
			callJSON(t, ctx, cs, "fhir_search", map[string]any{"next": b.next()}, &page2)
			if len(page2.Entry) == 0 {
				t.Fatal("the next page is empty")
			}
		})
		// The typed tools, as a model uses them: a wrapper, a paged search, a document's content.
		step(t, "typed tools", func(t *testing.T) {
			var me struct {
				ResourceType string `json:"resource_type"`
				ID           string `json:"id"`
			}
			callJSON(t, ctx, cs, "get_patient", nil, &me)
			if me.ResourceType != "Patient" || me.ID != patient {
				t.Fatalf("get_patient = %+v", me)
			}
			type typedPage struct {
				Total    int               `json:"total"`
				Returned int               `json:"returned"`
				Entries  []json.RawMessage `json:"entries"`
				Next     string            `json:"next"`
			}
			var labs typedPage
			callJSON(t, ctx, cs, "search_observation", map[string]any{"category": "laboratory", "count": 10}, &labs)
			seen := labs.Returned
			for p := labs; p.Next != ""; {
				var next typedPage
				callJSON(t, ctx, cs, "search_observation", map[string]any{"next": p.Next}, &next)
				seen += next.Returned
				p = next
			}
			if labs.Returned != 10 || labs.Next == "" || seen != labs.Total {
				t.Fatalf("search_observation laboratory: %d on the first page, paged through %d of %d", labs.Returned, seen, labs.Total)
			}
			var docs typedPage
			callJSON(t, ctx, cs, "search_document_reference", map[string]any{"type": "http://loinc.org|57133-1"}, &docs)
			if docs.Returned != 1 {
				t.Fatalf("referral notes: %d", docs.Returned)
			}
			var docID struct{ ID string }
			json.Unmarshal(docs.Entries[0], &docID)
			var doc struct {
				Attachments []struct {
					ContentType string `json:"content_type"`
					BinaryID    string `json:"binary_id"`
				} `json:"attachments"`
			}
			callJSON(t, ctx, cs, "get_document_reference", map[string]any{"id": docID.ID}, &doc)
			if len(doc.Attachments) != 1 || doc.Attachments[0].ContentType != "application/pdf" || doc.Attachments[0].BinaryID == "" {
				t.Fatalf("get_document_reference = %+v", doc)
			}
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "get_binary", Arguments: map[string]any{"id": doc.Attachments[0].BinaryID}})
			if err != nil || res.IsError || len(res.Content) != 2 {
				t.Fatalf("get_binary: %v %+v", err, res)
			}
			if pdf, ok := res.Content[1].(*sdk.EmbeddedResource); !ok || pdf.Resource.MIMEType != "application/pdf" || !bytes.HasPrefix(pdf.Resource.Blob, []byte("%PDF-")) {
				t.Fatalf("get_binary returned %T, not the PDF", res.Content[1])
			}
		})
		if err := cs.Close(); err != nil {
			t.Fatalf("closing the server: %v\n%s", err, serveLog.String())
		}
	})

	step(t, "what is stored where", func(t *testing.T) {
		kc := vault.NewKeychain()
		var tokens []string
		for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
			v, err := kc.Get(id, kind)
			if err != nil || v == "" {
				t.Fatalf("keychain %s: %q, %v", kind, v, err)
			}
			tokens = append(tokens, v)
		}
		assertMode(t, storePath, 0o600)
		assertMode(t, filepath.Dir(storePath), 0o700)
		for _, f := range []string{storePath, storePath + "-wal"} {
			raw, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			for _, s := range append(tokens, secret) {
				if bytes.Contains(raw, []byte(s)) {
					t.Fatalf("%s contains a secret", filepath.Base(f))
				}
			}
		}
		for name, log := range map[string]string{"connect": conn.log, "serve": serveLog.String()} {
			for _, s := range append(tokens, secret, patient) {
				if strings.Contains(log, s) {
					t.Fatalf("the %s log contains a secret or the patient id", name)
				}
			}
		}
	})
}

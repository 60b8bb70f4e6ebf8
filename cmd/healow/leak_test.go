package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/vault"
)

// TestWhatLeavesTheProcess runs the built binary as Claude Desktop would, with debug logs, through
// `healow connect`, then `healow serve` over stdio through a connection made with the tools, tool
// calls, a refused consent, faults of a sick practice and shutdown. It holds every byte the
// processes wrote and proves:
//   - stdout of serve is JSON-RPC 2.0 and nothing else, a message a line;
//   - no log (stderr of connect and serve) holds an access or refresh token, an authorization
//     code, a PKCE verifier, the client secret, or a sandbox patient's name or id; stdout, which
//     the model reads, holds none of the secrets either;
//   - serve tightens loosened modes of the store's folder and file when it starts, and the store
//     holds no secret afterwards, one practice having been disconnected.
func TestWhatLeavesTheProcess(t *testing.T) {
	requireKeychain(t)
	dir := t.TempDir()
	redirectURI := "http://127.0.0.1:" + freePort(t) + "/callback"
	client := sandbox.Client{ID: "leak-client", Secret: "leak-secret-" + randomHex(t), RedirectURIs: []string{redirectURI}}
	sb, err := sandbox.Start(sandbox.Options{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	storePath := filepath.Join(dir, "store", "tokens.db")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(os.Environ(),
		"HEALOW_CLIENT_ID="+client.ID, "HEALOW_CLIENT_SECRET="+client.Secret, "HEALOW_REDIRECT_URI="+redirectURI,
		"HEALOW_TOKEN_STORE="+storePath, "SSL_CERT_FILE="+ca, "HEALOW_ALLOWED_HOSTS=127.0.0.1", "HEALOW_LOG_LEVEL=debug"))
	ps := sb.Practices()
	w := &witness{ca: ca}
	kc := vault.NewKeychain()
	var ids []string
	t.Cleanup(func() {
		for _, id := range ids {
			kc.Delete(id, vault.AccessToken)
			kc.Delete(id, vault.RefreshToken)
		}
	})

	// healow connect, the browser playing the patient.
	var conn connected
	step(t, "connect", func(t *testing.T) {
		conn = c.connect(t, ps[0].Name, ps[0].BaseURL, func(t *testing.T, signIn string) { browse(t, ca, w.consent(t, signIn)) })
		ids = append(ids, conn.id)
		w.keep(t, kc, ids)
	})

	// Loosen what a careless backup or chmod would, then let serve put it right.
	os.Chmod(filepath.Dir(storePath), 0o755)
	for _, f := range []string{storePath, storePath + "-wal", storePath + "-shm"} {
		os.Chmod(f, 0o644)
	}

	// healow serve, every byte of its stdout kept on the way to the client.
	serve, stdin, stdout, serveLog := c.serveRaw(t)
	var raw lockedBuffer
	toClient, fromServe := io.Pipe()
	copied := make(chan struct{})
	go func() {
		io.Copy(tee{&raw, fromServe}, stdout)
		fromServe.Close()
		close(copied)
	}()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "leak-test"}, nil).Connect(ctx, &sdk.IOTransport{Reader: toClient, Writer: stdin}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, serveLog.String())
	}

	step(t, "serve tightens the store's modes", func(t *testing.T) {
		// serve opens the store while it answers; a tool call waits until it has.
		var list struct{ Practices []struct{ ID string } }
		callJSON(t, ctx, cs, "list_practices", nil, &list)
		assertMode(t, filepath.Dir(storePath), 0o700)
		assertMode(t, storePath, 0o600)
	})

	// A second practice connected through the tools, as a model would, once the patient stops
	// refusing consent: the refusal pasted into complete_oauth, the consent caught by serve itself.
	step(t, "connect through the tools after a refused consent", func(t *testing.T) {
		var started struct {
			AuthorizeURL string `json:"authorize_url"`
			State        string `json:"state"`
		}
		sb.SetFaults(ps[1].Code, sandbox.Faults{DenyConsent: true})
		callJSON(t, ctx, cs, "connect_practice", map[string]any{"name": ps[1].Name, "fhir_base_url": ps[1].BaseURL}, &started)
		expectToolError(t, ctx, cs, "complete_oauth", map[string]any{"code": w.consent(t, started.AuthorizeURL)})
		sb.SetFaults(ps[1].Code, sandbox.Faults{})
		// This time nothing is pasted: serve listens on the loopback redirect, and the browser's
		// redirect completes the sign-in there.
		callJSON(t, ctx, cs, "connect_practice", map[string]any{"name": ps[1].Name, "fhir_base_url": ps[1].BaseURL}, &started)
		if page := browse(t, ca, w.consent(t, started.AuthorizeURL)); !strings.Contains(page, ps[1].Name+" is connected") {
			t.Fatalf("the browser was shown %q", page)
		}
		var list struct{ Practices []struct{ ID, Name string } }
		callJSON(t, ctx, cs, "list_practices", nil, &list)
		for _, p := range list.Practices {
			if p.Name == ps[1].Name {
				ids = append(ids, p.ID)
			}
		}
		if len(ids) != 2 {
			t.Fatalf("the practice connected without pasting is not listed: %+v", list)
		}
		w.keep(t, kc, ids)
	})

	// Reading, as a model does.
	step(t, "read", func(t *testing.T) {
		for _, p := range ps[:2] {
			var me struct{ ID string }
			callJSON(t, ctx, cs, "get_patient", map[string]any{"practice": p.Name}, &me)
			var labs struct{ Next string }
			callJSON(t, ctx, cs, "search_observation", map[string]any{"practice": p.Name, "category": "laboratory", "count": 3}, &labs)
			callJSON(t, ctx, cs, "search_observation", map[string]any{"practice": p.Name, "next": labs.Next}, &labs)
			var docs struct{ Entries []struct{ ID string } }
			callJSON(t, ctx, cs, "search_document_reference", map[string]any{"practice": p.Name}, &docs)
			var doc struct {
				Attachments []struct {
					BinaryID string `json:"binary_id"`
				}
			}
			callJSON(t, ctx, cs, "get_document_reference", map[string]any{"practice": p.Name, "id": docs.Entries[0].ID}, &doc)
			if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "get_binary", Arguments: map[string]any{"practice": p.Name, "id": doc.Attachments[0].BinaryID}}); err != nil {
				t.Fatal(err)
			}
		}
	})

	// A sick practice: down, then refusing its tokens (a refresh follows), dropping connections,
	// failing once; then well again, on renewed tokens. And input that is refused.
	step(t, "a sick practice and refused input", func(t *testing.T) {
		for _, f := range []sandbox.Faults{{Unavailable: true}, {RejectAccess: true}, {ResetConnections: true}, {FailNext: 1}, {}} {
			sb.SetFaults(ps[0].Code, f)
			cs.CallTool(ctx, &sdk.CallToolParams{Name: "get_patient", Arguments: map[string]any{"practice": ps[0].Name}})
			w.keep(t, kc, ids)
		}
		sb.SetFaults(ps[0].Code, sandbox.Faults{})
		expectToolError(t, ctx, cs, "fhir_get", map[string]any{"practice": ps[0].Name, "resource": "Patient", "id": "../x"})
		expectToolError(t, ctx, cs, "fhir_search", map[string]any{"practice": ps[1].Name, "next": "https://evil.example/fhir/r4/x"})
		if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "no_such_tool"}); err == nil {
			t.Fatal("an unknown tool was called")
		}
		for _, tool := range []string{"list_practices", "practice_status"} {
			cs.CallTool(ctx, &sdk.CallToolParams{Name: tool})
		}
		if sb.Stats().RefreshGrants == 0 {
			t.Fatal("no refresh happened, so no refreshed token was looked for")
		}
	})

	// One practice is disconnected: its tokens leave the keychain, and the store (searched below
	// for every token ever seen) keeps none of them.
	step(t, "disconnect through the tools", func(t *testing.T) {
		var gone struct{}
		callJSON(t, ctx, cs, "disconnect_practice", map[string]any{"practice": ps[1].Name}, &gone)
		for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
			if _, err := kc.Get(ids[1], kind); !errors.Is(err, vault.ErrSecretNotFound) {
				t.Fatalf("the keychain still holds the disconnected practice's %s (%v)", kind, err)
			}
		}
	})

	// Shutdown, as Claude Desktop does it: close stdin, and the server exits on its own.
	step(t, "serve exits when its stdin closes", func(t *testing.T) {
		if err := cs.Close(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { <-copied; exited <- serve.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("serve exited with %v\n%s", err, serveLog.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not exit after its stdin closed")
		}
		w.keep(t, kc, ids)
	})

	// What each output holds, checked apart so that every leak is reported.
	t.Run("stdout is JSON-RPC and nothing else", func(t *testing.T) {
		if messages := assertJSONRPC(t, raw.Bytes()); messages < 25 {
			t.Fatalf("only %d messages on stdout", messages)
		}
	})
	secrets := w.secrets(client)
	t.Run("no output holds a secret", func(t *testing.T) {
		if len(secrets) < 8 {
			t.Fatalf("only %d secrets to look for", len(secrets))
		}
		for name, out := range map[string][]byte{"the connect log": []byte(conn.log), "the serve log": serveLog.Bytes(), "serve's stdout": raw.Bytes()} {
			for _, s := range secrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%s holds a secret (%d bytes)", name, len(s))
				}
			}
			if w.holdsVerifier(out) {
				t.Errorf("%s holds a PKCE verifier", name)
			}
		}
	})
	t.Run("no log holds patient data", func(t *testing.T) {
		if !strings.Contains(serveLog.String(), "serving MCP on stdio") {
			t.Fatalf("the serve log is not what this test looks at: %q", serveLog.String())
		}
		for name, out := range map[string]string{"the connect log": conn.log, "the serve log": serveLog.String()} {
			for _, p := range ps {
				for _, s := range []string{p.PatientID, p.PatientName} {
					if strings.Contains(out, s) {
						t.Errorf("%s holds patient data of %s", name, p.Name)
					}
				}
			}
		}
	})
	t.Run("the store holds no secret", func(t *testing.T) {
		for _, f := range []string{storePath, storePath + "-wal", storePath + "-shm"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a secret", filepath.Base(f))
				}
			}
		}
	})
}

// witness plays the patient's browser and remembers what must stay secret: the codes it
// carried back, the PKCE challenges of the launches (the verifiers never leave the process, so
// the logs are searched for a string that hashes to one), and the tokens seen in the keychain.
type witness struct {
	ca         string
	codes      []string
	challenges map[string]bool
	tokens     map[string]bool
}

// consent opens an authorize URL and returns where the practice sends the browser back.
func (w *witness) consent(t *testing.T, authorizeURL string) string {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	if w.challenges == nil {
		w.challenges = map[string]bool{}
	}
	w.challenges[u.Query().Get("code_challenge")] = true
	c := browserTrusting(t, w.ca)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	r, err := url.Parse(back)
	if err != nil || back == "" {
		t.Fatalf("the practice answered %d without a redirect", resp.StatusCode)
	}
	if code := r.Query().Get("code"); code != "" {
		w.codes = append(w.codes, code)
	}
	return back
}

// keep notes the tokens the keychain holds now for ids.
func (w *witness) keep(t *testing.T, kc *vault.Keychain, ids []string) {
	t.Helper()
	if w.tokens == nil {
		w.tokens = map[string]bool{}
	}
	for _, id := range ids {
		for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
			if v, err := kc.Get(id, kind); err == nil && v != "" {
				w.tokens[v] = true
			}
		}
	}
}

func (w *witness) secrets(c sandbox.Client) []string {
	out := append([]string{c.Secret, url.QueryEscape(c.Secret),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)))}, w.codes...)
	for tok := range w.tokens {
		out = append(out, tok)
	}
	return out
}

// holdsVerifier reports whether b contains a string that is the PKCE verifier of one of the
// launches: 43 to 128 unreserved characters whose S256 is the challenge.
func (w *witness) holdsVerifier(b []byte) bool {
	for _, run := range regexp.MustCompile(`[A-Za-z0-9._~-]{43,}`).FindAll(b, -1) {
		for i := 0; i+43 <= len(run); i++ {
			for n := 43; n <= 128 && i+n <= len(run); n++ {
				sum := sha256.Sum256(run[i : i+n])
				if w.challenges[base64.RawURLEncoding.EncodeToString(sum[:])] {
					return true
				}
			}
		}
	}
	return false
}

// assertJSONRPC fails unless out is JSON-RPC 2.0 messages, one a line, and nothing else; it
// returns how many there were.
func assertJSONRPC(t *testing.T, out []byte) int {
	t.Helper()
	if len(out) == 0 || out[len(out)-1] != '\n' {
		t.Fatalf("stdout does not end with a whole line: %q", out[max(0, len(out)-80):])
	}
	n := 0
	for line := range bytes.SplitSeq(out[:len(out)-1], []byte("\n")) {
		n++
		var m map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Fatalf("stdout line %d is not one JSON object: %.200q", n, line)
		}
		if string(m["jsonrpc"]) != `"2.0"` {
			t.Fatalf("stdout line %d is not JSON-RPC 2.0: %.200q", n, line)
		}
		_, isCall := m["method"]
		_, hasID := m["id"]
		_, hasResult := m["result"]
		_, hasError := m["error"]
		if isCall == (hasResult || hasError) || hasResult && hasError || !isCall && !hasID {
			t.Fatalf("stdout line %d is neither a request, a notification nor a response: %.200q", n, line)
		}
		for k := range m {
			switch k {
			case "jsonrpc", "id", "method", "params", "result", "error":
			default:
				t.Fatalf("stdout line %d has the member %q", n, k)
			}
		}
	}
	return n
}

func expectToolError(t *testing.T, ctx context.Context, cs *sdk.ClientSession, tool string, args map[string]any) {
	t.Helper()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil || !res.IsError {
		t.Fatalf("%s: %v, %+v; want a tool error", tool, err, res)
	}
}

// tee writes to a buffer and on to w, and keeps going when w is gone, so the buffer gets every
// byte even after the client stopped reading.
type tee struct {
	buf *lockedBuffer
	w   io.Writer
}

func (t tee) Write(p []byte) (int, error) {
	t.buf.Write(p)
	t.w.Write(p)
	return len(p), nil
}

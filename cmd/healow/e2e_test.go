package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/vault"
)

// TestBinaryEndToEnd runs the built binary as a person with Claude Desktop would: `healow
// sandbox` in the background, `healow connect` in its own process with a loopback redirect that
// a browser follows, then `healow serve` over stdio driven by the MCP SDK's client, with the
// tokens in the real OS keychain.
func TestBinaryEndToEnd(t *testing.T) {
	requireKeychain(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "sandbox-ca.pem")
	storePath := filepath.Join(dir, "store", "tokens.db")
	secret := "e2e-secret-" + randomHex(t)
	env := append(os.Environ(),
		"HEALOW_CLIENT_ID=e2e-client",
		"HEALOW_CLIENT_SECRET="+secret,
		"HEALOW_REDIRECT_URI=http://127.0.0.1:"+freePort(t)+"/callback",
		"HEALOW_TOKEN_STORE="+storePath,
		"SSL_CERT_FILE="+ca,
		"HEALOW_LOG_LEVEL=debug",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// The sandbox, in the background.
	sb := exec.CommandContext(ctx, bin, "sandbox", "--addr", "127.0.0.1:0", "--ca-file", ca)
	sb.Env = env
	sbOut, err := sb.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sbErr, err := sb.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var sbLog lockedBuffer
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Process.Kill(); sb.Wait() })
	// The sandbox says what to export to allow it; the rest of this test uses exactly that.
	allow, errLines := "", bufio.NewScanner(sbErr)
	for allow == "" && errLines.Scan() {
		sbLog.Write([]byte(errLines.Text() + "\n"))
		_, allow, _ = strings.Cut(errLines.Text(), "allow it with: export ")
	}
	go io.Copy(&sbLog, sbErr)
	lines := bufio.NewScanner(sbOut)
	if !lines.Scan() {
		t.Fatalf("the sandbox printed no practice: %s", sbLog.String())
	}
	code, base, _ := strings.Cut(lines.Text(), " ")
	if code == "" || !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("sandbox line %q", lines.Text())
	}
	go io.Copy(io.Discard, sbOut)
	if allow != "HEALOW_ALLOWED_HOSTS=127.0.0.1" {
		t.Fatalf("the sandbox says to export %q (stderr: %s)", allow, sbLog.String())
	}

	// Without the sandbox in HEALOW_ALLOWED_HOSTS, healow connect refuses it before any request,
	// and says how to allow it; a malformed list is refused at the start.
	for _, tc := range []struct{ list, want string }{
		{"", "add 127.0.0.1 to HEALOW_ALLOWED_HOSTS"},
		{"fhir4.example.org", "127.0.0.1 is not one of eClinicalWorks' FHIR servers"},
		{"https://127.0.0.1", `HEALOW_ALLOWED_HOSTS: "https://127.0.0.1" has a scheme`},
	} {
		text, status := runBinary(t, ctx, bin, append(env, "HEALOW_ALLOWED_HOSTS="+tc.list), "connect", "--name", "Sunrise", "--fhir-base-url", base, "--no-browser")
		if status == 0 || !strings.Contains(text, tc.want) {
			t.Fatalf("connect with HEALOW_ALLOWED_HOSTS=%q: exit %d, %q; want it refused with %q", tc.list, status, text, tc.want)
		}
	}
	env = append(env, allow)

	// healow connect, with a "browser" that follows the authorize URL to the loopback redirect.
	conn := exec.CommandContext(ctx, bin, "connect", "--name", "Sunrise", "--fhir-base-url", base, "--no-browser")
	conn.Env = env
	connOut, err := conn.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var connLog bytes.Buffer
	conn.Stderr = &connLog
	if err := conn.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(connOut)
	if !out.Scan() || !strings.HasPrefix(out.Text(), "https://") {
		t.Fatalf("connect did not print the authorize URL first: %q (stderr: %s)", out.Text(), connLog.String())
	}
	page := browse(t, ca, out.Text())
	if !strings.Contains(page, "is connected") {
		t.Fatalf("the browser was shown %q", page)
	}
	var rest strings.Builder
	for out.Scan() {
		rest.WriteString(out.Text() + "\n")
	}
	if err := conn.Wait(); err != nil {
		t.Fatalf("healow connect: %v\n%s", err, connLog.String())
	}
	if !strings.Contains(rest.String(), `Connected "Sunrise"`) {
		t.Fatalf("connect printed %q", rest.String())
	}

	// healow serve over stdio, as Claude Desktop runs it.
	serve := exec.Command(bin, "serve")
	serve.Env = env
	var serveLog bytes.Buffer
	serve.Stderr = &serveLog
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "e2e"}, nil).Connect(ctx, &sdk.CommandTransport{Command: serve}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Practices []struct {
			ID, Name, State string
			PatientID       string `json:"patient_id"`
		}
	}
	callJSON(t, ctx, cs, "list_practices", nil, &list)
	if len(list.Practices) != 1 || list.Practices[0].Name != "Sunrise" || list.Practices[0].PatientID == "" {
		t.Fatalf("list_practices = %+v", list)
	}
	id, patient := list.Practices[0].ID, list.Practices[0].PatientID
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
	// The typed tools, as a model uses them: a wrapper, a paged search, a document's content.
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
	if err := cs.Close(); err != nil {
		t.Fatalf("closing the server: %v\n%s", err, serveLog.String())
	}

	// What is stored where.
	kc := vault.NewKeychain()
	var tokens []string
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		v, err := kc.Get(id, kind)
		if err != nil || v == "" {
			t.Fatalf("keychain %s: %q, %v", kind, v, err)
		}
		tokens = append(tokens, v)
		t.Cleanup(func() { kc.Delete(id, kind) })
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
	for name, log := range map[string]string{"connect": connLog.String(), "serve": serveLog.String()} {
		for _, s := range append(tokens, secret, patient) {
			if strings.Contains(log, s) {
				t.Fatalf("the %s log contains a secret or the patient id", name)
			}
		}
	}
}

// requireKeychain skips without a Secret Service, unless HEALOW_TEST_KEYCHAIN=1 demands one.
func requireKeychain(t *testing.T) {
	t.Helper()
	required := os.Getenv("HEALOW_TEST_KEYCHAIN") == "1"
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" && runtime.GOOS == "linux" {
		// Probing without a session would let go-keyring start a D-Bus daemon that outlives the test.
		if required {
			t.Fatal("HEALOW_TEST_KEYCHAIN=1 but there is no D-Bus session: run under .ci/with-secret-service")
		}
		t.Skip("no D-Bus session; run under .ci/with-secret-service to test with the real keychain")
	}
	user := "probe-" + randomHex(t)
	err := keyring.Set(vault.Service, user, "probe")
	if err == nil {
		keyring.Delete(vault.Service, user)
		return
	}
	if required {
		t.Fatalf("HEALOW_TEST_KEYCHAIN=1 but the OS keychain is not usable: %v", err)
	}
	t.Skipf("no usable OS keychain (%v); set HEALOW_TEST_KEYCHAIN=1 to make this a failure", err)
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "healow")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// browse follows a URL, redirects included, as a browser that trusts the sandbox's CA would.
func browse(t *testing.T, caFile, u string) string {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func callJSON(t *testing.T, ctx context.Context, cs *sdk.ClientSession, tool string, args map[string]any, v any) {
	t.Helper()
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	var text string
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			text += tc.Text
		}
	}
	if res.IsError {
		t.Fatalf("%s: tool error: %s", tool, text)
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%s: %v in %s", tool, err, text)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s mode %o, want %o", path, got, want)
	}
}

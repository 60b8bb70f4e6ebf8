package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// The built `healow serve`, driven over raw pipes: every line that once ended it with status 1
// and no answer (not JSON, trailing data, "jsonrpc":"1.0", nesting past the decoder's limit, a
// batch, a line past the 16 MiB bound) now gets its error answer, the session goes on (a tool
// that reaches the sandbox works after them all), and closing stdin ends it with status 0.
// Everything on stdout stays JSON-RPC 2.0, one message a line. No practice is connected, so no
// keychain is needed.
func TestServeAnswersBadLinesAndGoesOn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	client := sandbox.DefaultClient()
	sb, err := sandbox.Start(sandbox.Options{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve, stdin, stdout, log := newCLI(t, ctx, append(os.Environ(),
		"HEALOW_CLIENT_ID="+client.ID, "HEALOW_CLIENT_SECRET="+client.Secret, "HEALOW_REDIRECT_URI="+client.RedirectURIs[0],
		"HEALOW_TOKEN_STORE="+filepath.Join(dir, "store", "tokens.db"), "SSL_CERT_FILE="+ca, "HEALOW_ALLOWED_HOSTS=127.0.0.1")).serveRaw(t)
	var raw lockedBuffer
	c := testenv.NewRawClient(t, stdin, io.TeeReader(stdout, &raw))
	c.Initialize()

	lines := append(testenv.BadLines(), testenv.BadLine{Name: "longer than 16 MiB", ID: "null", Code: -32700,
		Line: `{"jsonrpc":"2.0","id":99,"method":"ping","params":{"pad":"` + strings.Repeat("x", 16<<20) + `"}}`})
	for i, bl := range lines {
		c.CheckRefused(bl, i)
	}

	// A tool that reaches the practice's server still works.
	p := sb.Practices()[0]
	args, _ := json.Marshal(map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL})
	c.Send(`{"jsonrpc":"2.0","id":"connect","method":"tools/call","params":{"name":"connect_practice","arguments":` + string(args) + `}}`)
	if m, _ := c.Await(`"connect"`); !strings.Contains(string(m["result"]), "authorize_url") || strings.Contains(string(m["result"]), `"isError":true`) {
		t.Fatalf("connect_practice after the bad lines: %.300s %s\n%s", m["result"], m["error"], log.String())
	}

	c.CloseInput()
	if err := serve.Wait(); err != nil {
		t.Fatalf("healow serve ended with %v\n%s", err, log.String())
	}
	if n := assertJSONRPC(t, raw.Bytes()); n < 2*len(lines) {
		t.Fatalf("%d lines on stdout for %d bad lines and their pings", n, len(lines))
	}
	if got := strings.Count(log.String(), "refused a line from the MCP client"); got != len(lines) {
		t.Fatalf("%d refusals logged for %d bad lines:\n%s", got, len(lines), log.String())
	}
	if bytes.Contains(raw.Bytes(), []byte(strings.Repeat("x", 1<<10))) {
		t.Fatal("the over-long line was repeated on stdout")
	}
}

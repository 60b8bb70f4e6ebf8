package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// forwardingPage is redirect/index.html: the page hosted at an https address that sends the
// browser on to healow's listener.
const forwardingPage = "../../redirect/index.html"

type forwarded struct {
	URL   string `json:"url"`
	Error string `json:"error"`
}

// forwardTo runs the page's own script in Node (no browser needed: it reads only its query) and
// returns where it would send a browser that arrived with search.
func forwardTo(t *testing.T, search string) forwarded {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the forwarding page's script is not run")
	}
	html, err := os.ReadFile(forwardingPage)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script>(.*)</script>`).FindSubmatch(html)
	if m == nil {
		t.Fatal("the forwarding page has no script")
	}
	js := filepath.Join(t.TempDir(), "page.js")
	harness := string(m[1]) + "\nprocess.stdout.write(JSON.stringify(forward(process.argv[2])));\n"
	if err := os.WriteFile(js, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, js, search).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var f forwarded
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	return f
}

// With the redirect page at an https address and HEALOW_CALLBACK_PORT, a practice connects
// without pasting: the authorization and the token request name the registered https address,
// the page forwards the answer to the port healow listens on, and the browser is told it is
// connected.
func TestForwardingPageConnects(t *testing.T) {
	t.Parallel()
	const registered = "https://pages.example/healow/"
	port := freePort(t)
	listen, err := listenAt(registered, port)
	if err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{Listen: listen,
		Sandbox: sandbox.Options{Client: sandbox.Client{RedirectURIs: []string{registered}}}})
	ctx := context.Background()
	cs, end, err := mcp.ConnectInMemory(ctx, mcp.NewServer(env.Tree.Registry), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer end()
	p := env.Sandbox.Practices()[0]
	var started struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	callJSON(t, ctx, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &started)
	if u, _ := url.Parse(started.AuthorizeURL); u.Query().Get("redirect_uri") != registered {
		t.Fatalf("the sign-in names the redirect %q", u.Query().Get("redirect_uri"))
	}
	landed, err := env.Sandbox.Consent(ctx, started.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(landed, registered+"?") {
		t.Fatalf("the browser landed on %q", landed)
	}
	u, _ := url.Parse(landed)
	q := u.Query()
	q.Set("port", port) // the page's constant is 8765; the registered address may say another
	f := forwardTo(t, "?"+q.Encode())
	if !strings.HasPrefix(f.URL, "http://127.0.0.1:"+port+"/callback?") {
		t.Fatalf("the page forwards to %+v", f)
	}
	resp, err := http.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), p.Name+" is connected") {
		t.Fatalf("the browser was shown %s: %s", resp.Status, page)
	}
	var list struct{ Practices []struct{ Name string } }
	callJSON(t, ctx, cs, "list_practices", nil, &list)
	if len(list.Practices) != 1 || list.Practices[0].Name != p.Name {
		t.Fatalf("list_practices = %+v", list)
	}
}

// The page forwards the OAuth answer and nothing else, to the port it is told, and says what is
// wrong when it cannot.
func TestForwardingPageScript(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		search, url, err string
	}{
		{search: "?code=C&state=S", url: "http://127.0.0.1:8765/callback?code=C&state=S"},
		{search: "?code=C%2B1&state=S&port=9000&evil=1", url: "http://127.0.0.1:9000/callback?code=C%2B1&state=S"},
		{search: "?error=access_denied&error_description=no+thanks&state=S", url: "http://127.0.0.1:8765/callback?state=S&error=access_denied&error_description=no+thanks"},
		{search: "?code=C", err: "Open it only through the sign-in link"},
		{search: "", err: "Open it only through the sign-in link"},
		{search: "?code=C&state=S&port=80%2F..", err: "not a port number"},
		{search: "?code=C&state=S&port=70000", err: "not a port number"},
	} {
		f := forwardTo(t, tc.search)
		if f.URL != tc.url || !strings.Contains(f.Error, tc.err) {
			t.Errorf("%q: forwards to %+v, want %q / %q", tc.search, f, tc.url, tc.err)
		}
	}
}

// HEALOW_CALLBACK_PORT is a port, and only for an https redirect.
func TestCallbackPortSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		redirect, port, addr, err string
	}{
		{redirect: "https://pages.example/healow/", port: "8765", addr: "127.0.0.1:8765"},
		{redirect: "https://pages.example/healow/"},
		{redirect: "http://127.0.0.1:9001/cb", addr: "127.0.0.1:9001"},
		{redirect: "http://localhost/cb", addr: "localhost:80"},
		{redirect: "http://127.0.0.1:9001/cb", port: "8765", err: "unset one of them"},
		{redirect: "https://pages.example/healow/", port: "http", err: "want the port number"},
		{redirect: "https://pages.example/healow/", port: "0", err: "want the port number"},
	} {
		at, err := listenAt(tc.redirect, tc.port)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s with %q: %v, want %q", tc.redirect, tc.port, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s with %q: %v", tc.redirect, tc.port, err)
		case tc.addr == "" && at != nil, tc.addr != "" && (at == nil || at.Addr != tc.addr):
			t.Errorf("%s with %q: listens at %+v, want %q", tc.redirect, tc.port, at, tc.addr)
		}
	}
}

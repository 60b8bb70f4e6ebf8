package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/practice/egress"
)

// sandboxDirectory is the sandbox's directory as healow's wiring builds it, kept in a folder of
// the test's.
func sandboxDirectory(t *testing.T, sb *sandbox.Server) *directory.Directory {
	t.Helper()
	hosts, err := egress.Parse(sb.Host())
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDirectory(sb.DirectoryURL(), filepath.Join(t.TempDir(), "tokens.db"), sb.CertPool(), hosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(running(context.Background(), d))
	return d
}

// healow find prints the best matches as a table (or JSON) with how to connect one, and says when
// more matched or none did.
func TestFindCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		practices     int
		query, golden string
		json          bool
	}{
		{0, "Lakeview", "find.golden", false},
		{0, "sunrise anytown", "find.json.golden", true},
		{0, "cardiology", "find-none.golden", false},
		{24, "sunrise", "find-more.golden", false},
	} {
		sb, err := sandbox.Start(sandbox.Options{Practices: tc.practices})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sb.Close)
		r, err := sandboxDirectory(t, sb).Search(ctx, tc.query, directory.DefaultLimit)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := printFound(&out, r, tc.json); err != nil {
			t.Fatal(err)
		}
		scrub := scrubber{}.with(hostOf(t, sb.URL()), "<sandbox>")
		if !tc.json {
			testenv.Golden(t, "testdata/"+tc.golden, []byte(scrub.table(out.String())))
			continue
		}
		testenv.Golden(t, "testdata/"+tc.golden, []byte(scrub.scrub(out.String())))
		var got foundJSON
		if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Practices) != 2 || got.Practices[1].FHIRBaseURL != sb.Practices()[0].BaseURL {
			t.Fatalf("%v %+v", err, got)
		}
	}
}

// healow connect --code finds the base URL and the name in the directory; a six-letter code the
// directory does not list, or cannot be looked up in, is tried at healow's documented address;
// any other code is refused, and so is one that is not a code at all.
func TestConnectByCode(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	d := sandboxDirectory(t, env.Sandbox)
	ctx := context.Background()
	sunrise := env.Sandbox.Practices()[0]
	for _, tc := range []struct {
		code, name           string
		wantName, wantBase   string
		wantSaid, wantRefuse string
	}{
		{code: "feigcd", wantName: sunrise.Name, wantBase: sunrise.BaseURL, wantSaid: "FEIGCD is Sunrise Family Medicine (100 Example Parkway, Suite 200, Anytown, IL 62701)"},
		{code: "FEIGCD", name: "My doctor", wantName: "My doctor", wantBase: sunrise.BaseURL},
		{code: "ZZQQXX", wantName: "ZZQQXX", wantBase: "https://fhir4.healow.com/fhir/r4/ZZQQXX", wantSaid: "ZZQQXX is not in the practice directory"},
		{code: "OLDSUN", wantName: "OLDSUN", wantBase: "https://fhir4.healow.com/fhir/r4/OLDSUN"}, // its endpoint is off
		{code: "AB12", wantRefuse: "AB12 is not in the practice directory"},
		{code: "../../oauth", wantRefuse: "is not a practice code"},
		{code: "ABCDEF?x=1", wantRefuse: "is not a practice code"},
	} {
		var msg bytes.Buffer
		name, base, err := byCode(ctx, d, tc.code, tc.name, &msg)
		if tc.wantRefuse != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantRefuse) {
				t.Errorf("%s: %q %q %v", tc.code, name, base, err)
			}
			continue
		}
		if err != nil || name != tc.wantName || base != tc.wantBase || !strings.Contains(msg.String(), tc.wantSaid) {
			t.Errorf("%s: %q %q %v; said %q", tc.code, name, base, err, msg.String())
		}
	}

	// The code from the directory connects, as healow connect --code does it.
	name, base, err := byCode(ctx, d, "feigcd", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	pasteR, pasteW := io.Pipe()
	defer pasteW.Close()
	var out, msg bytes.Buffer
	err = connect(ctx, connectRun{conn: env.Connector, name: name, base: base,
		timeout: 30 * time.Second, in: pasteR, out: &out, msg: &msg,
		browse: func(u string) { go consentAndPaste(t, env, u, pasteW) }})
	if err != nil || !strings.Contains(out.String(), `Connected "Sunrise Family Medicine"`) {
		t.Fatalf("%v: %s", err, out.String())
	}

	// A directory that lists a practice elsewhere only suggests it: connecting it is refused
	// before a request, as any base outside eClinicalWorks' servers and the listed hosts is.
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Endpoint","name":"Sunrise","address":"https://fhir.attacker.example/fhir/r4/EVILCD"}}]}`)
	}))
	t.Cleanup(evil.Close)
	lying, err := directory.New(directory.Options{URL: evil.URL, Folder: t.TempDir(), HTTP: evil.Client()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(running(ctx, lying))
	name, base, err = byCode(ctx, lying, "EVILCD", "", io.Discard)
	if err != nil || base != "https://fhir.attacker.example/fhir/r4/EVILCD" {
		t.Fatalf("%q %v", base, err)
	}
	if _, err := env.Connector.Begin(ctx, name, base); err == nil || !strings.Contains(err.Error(), "not one of eClinicalWorks' FHIR servers") {
		t.Fatalf("a base the directory lied about: %v", err)
	}

	// Offline with no copy of the directory, a six-letter code is still tried at healow's address.
	offline, err := directory.New(directory.Options{URL: "https://127.0.0.1:1/directory", Folder: t.TempDir(), HTTP: env.HTTP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(running(ctx, offline))
	var said bytes.Buffer
	if _, base, err := byCode(ctx, offline, "QWERTY", "", &said); err != nil || base != "https://fhir4.healow.com/fhir/r4/QWERTY" || !strings.Contains(said.String(), "could not be read") {
		t.Fatalf("offline: %q %v %q", base, err, said.String())
	}
	if _, _, err := byCode(ctx, offline, "AB12", "", &said); err == nil || !strings.Contains(err.Error(), "could not be read") {
		t.Fatalf("offline, not six letters: %v", err)
	}
}

// The built binary finds a practice in the sandbox's directory with only the variables healow
// sandbox tells to export, keeps the directory beside the token store (0600), reads that copy
// the second time, and exits 1 when nothing matches; connect --code refuses what is not a code
// before anything else.
func TestFindBinary(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store", "tokens.db")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(os.Environ(), "SSL_CERT_FILE="+ca, "HEALOW_TOKEN_STORE="+store,
		egress.EnvVar+"="+sb.Host(), directory.EnvURL+"="+sb.DirectoryURL()))
	for range 2 {
		var got foundJSON
		c.runJSON(t, &got, "find", "sunrise", "--json", "anytown")
		if len(got.Practices) != 2 || got.Practices[1].FHIRBaseURL != sb.Practices()[0].BaseURL {
			t.Fatalf("%+v", got)
		}
	}
	if n := sb.Stats().Directory; n != 1 {
		t.Fatalf("%d downloads", n)
	}
	assertMode(t, filepath.Join(dir, "store", "practice-directory.json"), 0o600)
	if out, code := c.run(t, "find", "cardiology"); code != 1 || !strings.Contains(out, "No practice") {
		t.Fatalf("no match: exit %d, %s", code, out)
	}
	if out, code := c.run(t, "find"); code != 1 || !strings.Contains(out, "usage: healow find") {
		t.Fatalf("no words: exit %d, %s", code, out)
	}
	if out, code := c.with(directory.EnvURL+"=http://example.com/x").run(t, "find", "sunrise"); code != 1 || !strings.Contains(out, "want an https URL") {
		t.Fatalf("http directory: exit %d, %s", code, out)
	}
	c = c.with("HEALOW_CLIENT_ID=x", "HEALOW_CLIENT_SECRET=y", "HEALOW_REDIRECT_URI=https://app.example/cb")
	for _, args := range [][]string{
		{"connect", "--code", "../x", "--no-browser"},
		{"connect", "--code", "FEIGCD", "--fhir-base-url", sb.Practices()[0].BaseURL},
		{"connect", "--fhir-base-url", sb.Practices()[0].BaseURL},
	} {
		if out, code := c.run(t, args...); code == 0 || !strings.Contains(out, "usage: healow connect") && !strings.Contains(out, "is not a practice code") {
			t.Errorf("%v: exit %d, %s", args, code, out)
		}
	}
	if n := sb.Stats().Directory; n != 1 {
		t.Fatalf("a refused connect read the directory: %d requests", n)
	}
}

package main

// The tests that run the built binary drive it as a person would from a shell: healow sandbox
// in the background, healow connect with a browser that follows its sign-in URL, healow serve
// under an MCP client, and the commands that read. The binary is built once for the whole run.

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
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/vault"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/zalando/go-keyring"
)

// buildDir holds the binaries a test run builds; TestMain makes it and removes it when the run
// ends.
var buildDir string

// A build is one program a test run builds at most once and shares.
type build struct {
	once sync.Once
	path string
	err  error
}

var healowBuild, bareBuild, stampedBuild build

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "healow-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary returns the path of healow built from this package. The first test that asks builds
// it, and every later one in the run shares that build, so a run builds it at most once and a
// run of tests that need none (go test -run TestStatusTable) does not wait for a build. It is
// built as a user builds it, without -race whatever the tests are built with.
func binary(t testing.TB) string { return healowBuild.get(t, ".", "healow") }

// bareServer returns the path of testdata/bareserver built as binary builds healow: the bare
// go-sdk server healow serve is measured against.
func bareServer(t testing.TB) string { return bareBuild.get(t, "./testdata/bareserver", "bareserver") }

// stampedBinary returns healow built as a release build stamps its version, stampedVersion.
func stampedBinary(t testing.TB) string {
	return stampedBuild.get(t, ".", "healow-stamped", "-ldflags=-X "+versionVar+"="+stampedVersion)
}

// versionVar is the variable a release build stamps with its version (see internal/version).
const versionVar, stampedVersion = "github.com/healow-mcp/healow-mcp/internal/version.release", "v1.2.3-test"

// get builds pkg with go build's flags into name, once.
func (b *build) get(t testing.TB, pkg, name string, flags ...string) string {
	t.Helper()
	b.once.Do(func() {
		path := filepath.Join(buildDir, name)
		args := append(append([]string{"build"}, flags...), "-o", path, pkg)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
			return
		}
		b.path = path
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// step runs one step of a scenario as a subtest, and ends the scenario when the step fails:
// each step builds on what the ones before it did. What must outlive a step (a process, a
// keychain item to delete) is started or registered by the scenario, not inside the step,
// since a subtest's cleanups run when it ends.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if !t.Run(name, f) {
		t.FailNow()
	}
}

// cli runs the built healow as one shell would: with one environment, every process it starts
// bounded by ctx (the scenario's deadline) and killed when ctx ends.
type cli struct {
	bin string
	ctx context.Context
	env []string
}

func newCLI(t testing.TB, ctx context.Context, env []string) cli {
	return cli{bin: binary(t), ctx: ctx, env: env}
}

// clientEnv is this process's environment with a confidential client of its own (a fresh secret,
// so no run meets another's keychain entries), a loopback redirect on a free port, a store under
// dir and the sandbox's CA at ca: what the end-to-end tests export before running healow.
func clientEnv(t *testing.T, client, dir, ca string) []string {
	return append(os.Environ(),
		"HEALOW_CLIENT_ID="+client+"-client", "HEALOW_CLIENT_SECRET="+client+"-secret-"+randomHex(t),
		"HEALOW_REDIRECT_URI=http://127.0.0.1:"+freePort(t)+"/callback",
		"HEALOW_TOKEN_STORE="+filepath.Join(dir, "store", "tokens.db"),
		"SSL_CERT_FILE="+ca,
	)
}

// with is the same shell with more variables exported.
func (c cli) with(vars ...string) cli {
	c.env = append(slices.Clip(c.env), vars...)
	return c
}

func (c cli) command(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(c.ctx, c.bin, args...)
	cmd.Env = c.env
	return cmd
}

// run runs healow with args to its end and returns its stdout (with its stderr after it when it
// fails) and its exit status.
func (c cli) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := c.command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out) + stderr.String(), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("healow %v: %v", args, err)
	}
	return string(out), 0
}

// runJSON runs healow with args, which must succeed, and decodes its stdout into v.
func (c cli) runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("healow %v exited %d: %s", args, code, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("healow %v: %v in %s", args, err, out)
	}
}

// statusJSON runs healow status --json and checks that it exits with one of want.
func (c cli) statusJSON(t *testing.T, want ...int) statusReport {
	t.Helper()
	out, code := c.run(t, "status", "--json")
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status --json: %v in %s", err, out)
	}
	if !slices.Contains(want, code) {
		t.Fatalf("status exited %d, want %d: %s", code, want, out)
	}
	return r
}

// sandboxProc is a healow sandbox running in the background.
type sandboxProc struct {
	bases map[string]string // practice code → FHIR base URL, as it printed them
	allow string            // what it says to export to allow it: "HEALOW_ALLOWED_HOSTS=…"
	log   *lockedBuffer     // its stderr
}

// sandbox starts healow sandbox with its CA certificate written to ca, and returns once it has
// printed its practices. It runs until the test that started it ends: start it from the
// scenario, not from a step.
func (c cli) sandbox(t *testing.T, ca string, args ...string) sandboxProc {
	t.Helper()
	sb := c.command(append([]string{"sandbox", "--addr", "127.0.0.1:0", "--ca-file", ca}, args...)...)
	out, err := sb.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errOut, err := sb.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Process.Kill(); sb.Wait() })
	p := sandboxProc{bases: map[string]string{}, log: &lockedBuffer{}}
	// It says what to export to allow it; the tests use exactly that.
	for errLines := bufio.NewScanner(errOut); p.allow == "" && errLines.Scan(); {
		p.log.Write([]byte(errLines.Text() + "\n"))
		_, p.allow, _ = strings.Cut(errLines.Text(), "allow it with: export ")
	}
	go io.Copy(p.log, errOut)
	lines := bufio.NewScanner(out)
	for len(p.bases) < 2 && lines.Scan() {
		code, base, _ := strings.Cut(lines.Text(), " ")
		if code == "" || !strings.HasPrefix(base, "https://127.0.0.1:") {
			t.Fatalf("sandbox line %q", lines.Text())
		}
		p.bases[code] = base
	}
	if len(p.bases) < 2 {
		t.Fatalf("the sandbox printed %v: %s", p.bases, p.log.String())
	}
	go io.Copy(io.Discard, out)
	return p
}

// connected is what one healow connect did.
type connected struct {
	id      string // the practice id it printed
	printed string // its stdout after the sign-in URL
	log     string // its stderr
}

var printedID = regexp.MustCompile(`practice id (pr_[a-z0-9]+)`)

// connect runs healow connect for name at base. It hands the sign-in URL, which healow prints
// first, to browser (the patient at a browser: the practice's consent page, and on to the
// redirect), and waits for healow to finish.
func (c cli) connect(t *testing.T, name, base string, browser func(t *testing.T, signIn string)) connected {
	t.Helper()
	conn := c.command("connect", "--name", name, "--fhir-base-url", base, "--no-browser")
	out, err := conn.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	conn.Stderr = &log
	if err := conn.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "https://") {
		conn.Process.Kill()
		conn.Wait()
		t.Fatalf("connect %s did not print the sign-in URL first: %q (stderr: %s)", name, lines.Text(), log.String())
	}
	browser(t, lines.Text())
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	if err := conn.Wait(); err != nil {
		t.Fatalf("connect %s: %v\n%s", name, err, log.String())
	}
	m := printedID.FindStringSubmatch(rest.String())
	if m == nil {
		t.Fatalf("connect %s printed %q", name, rest.String())
	}
	return connected{id: m[1], printed: rest.String(), log: log.String()}
}

// signInAt is the patient consenting in a browser that trusts the sandbox's CA (in the file
// ca): it follows the sign-in URL and its redirects to healow connect's loopback listener,
// whose page must say the practice is connected.
func signInAt(ca string) func(t *testing.T, signIn string) {
	return func(t *testing.T, signIn string) {
		t.Helper()
		if page := browse(t, ca, signIn); !strings.Contains(page, "is connected") {
			t.Fatalf("the browser was shown %q", page)
		}
	}
}

// serve starts healow serve under the MCP SDK's client, as Claude Desktop runs it, and writes
// its stderr to stderr unless that is nil. Closing the session ends it.
func (c cli) serve(t *testing.T, client string, stderr io.Writer) *sdk.ClientSession {
	t.Helper()
	serve := c.command("serve")
	serve.Stderr = stderr
	cs, err := sdk.NewClient(&sdk.Implementation{Name: client}, nil).Connect(c.ctx, &sdk.CommandTransport{Command: serve}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// serveRaw starts healow serve with its stdin and stdout as pipes, for tests that speak the
// protocol byte by byte; its stderr goes to the returned log. It is killed when the test ends.
func (c cli) serveRaw(t *testing.T) (serve *exec.Cmd, stdin io.WriteCloser, stdout io.Reader, log *lockedBuffer) {
	t.Helper()
	serve = c.command("serve")
	stdin, err := serve.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	log = &lockedBuffer{}
	serve.Stderr = log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill() })
	return serve, stdin, out, log
}

// requireKeychain skips without a Secret Service, unless HEALOW_TEST_KEYCHAIN=1 demands one.
func requireKeychain(t testing.TB) {
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

// browserTrusting is the HTTP client of a browser that trusts the CA certificates in caFile (the
// sandbox's).
func browserTrusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 30 * time.Second}
}

// browse follows a URL, redirects included, as a browser that trusts the sandbox's CA would.
func browse(t *testing.T, caFile, u string) string {
	t.Helper()
	resp, err := browserTrusting(t, caFile).Get(u)
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

func randomHex(t testing.TB) string {
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

// deleteKeychainItems removes what a test stored in the real keychain.
func deleteKeychainItems(id string) {
	kc := vault.NewKeychain()
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		kc.Delete(id, kind)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *lockedBuffer) String() string { return string(b.Bytes()) }

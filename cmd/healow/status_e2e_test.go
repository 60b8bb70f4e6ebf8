package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// TestStatusOfThreePracticesAndTwoServers is the scenario, tried as a new user would
// with the built binary: three practices (healthy, rate-limited, revoked grant) on two sandboxes,
// two `healow serve` processes, and healow status, practices, audit and disconnect.
func TestStatusOfThreePracticesAndTwoServers(t *testing.T) {
	requireKeychain(t)
	if testing.Short() {
		t.Skip("waits for a token to expire")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	storePath := filepath.Join(dir, "store", "tokens.db")
	ca := filepath.Join(dir, "ca.pem")
	env := append(os.Environ(),
		"HEALOW_CLIENT_ID=status-client", "HEALOW_CLIENT_SECRET=status-secret-"+randomHex(t),
		"HEALOW_REDIRECT_URI=http://127.0.0.1:"+freePort(t)+"/callback",
		"HEALOW_TOKEN_STORE="+storePath, "SSL_CERT_FILE="+ca, "HEALOW_ALLOWED_HOSTS=127.0.0.1", "NO_COLOR=1",
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Two sandboxes, since a fault holds for a practice code and the sandbox has two: the first
	// rate-limits AACJCD, the second issues two-second tokens for FEIGCD and refuses to renew them.
	first := startSandbox(t, ctx, bin, env, filepath.Join(dir, "ca1.pem"), "--fault", "AACJCD=rate-limited")
	second := startSandbox(t, ctx, bin, env, filepath.Join(dir, "ca2.pem"), "--token-ttl", "2s", "--fault", "FEIGCD=revoke-refresh")
	var pems []byte
	for _, f := range []string{"ca1.pem", "ca2.pem"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		pems = append(pems, b...)
	}
	os.WriteFile(ca, pems, 0o600)
	ids := map[string]string{}
	for _, p := range []struct{ name, base string }{
		{"Sunrise", first["FEIGCD"]}, {"Lakeside", first["AACJCD"]}, {"Revoked", second["FEIGCD"]},
	} {
		ids[p.name] = connectWithBinary(t, ctx, bin, env, ca, p.name, p.base)
		t.Cleanup(func() { deleteKeychainItems(ids[p.name]) })
	}

	var sessions []*sdk.ClientSession
	for range 2 {
		serve := exec.Command(bin, "serve")
		serve.Env = env
		cs, err := sdk.NewClient(&sdk.Implementation{Name: "status-e2e"}, nil).Connect(ctx, &sdk.CommandTransport{Command: serve}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, cs)
	}
	var out struct{}
	callJSON(t, ctx, sessions[0], "get_patient", map[string]any{"practice": "Sunrise"}, &out)
	callJSON(t, ctx, sessions[0], "search_observation", map[string]any{"practice": "Sunrise", "category": "laboratory", "count": 5}, &out)

	// Once the two-second token has lapsed and its renewal was refused, both servers show Revoked
	// needing a reconnect.
	start := time.Now()
	var report statusReport
	for {
		report = statusJSON(t, ctx, bin, env, statusHealthy, statusUnhealthy) // healthy until the token lapses
		if len(report.Servers) == 2 && stateIn(report.Servers[0], "Revoked") == "needs-reconnect" && stateIn(report.Servers[1], "Revoked") == "needs-reconnect" {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("status never showed the revoked grant: %+v", report)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Right after a 429, the first server shows Lakeside rate-limited. The hold lasts until the
	// wall-clock minute turns, so the call is not made in a minute's last seconds.
	if into := time.Since(time.Now().Truncate(time.Minute)); into > 50*time.Second {
		time.Sleep(time.Minute - into)
	}
	lctx, lcancel := context.WithTimeout(ctx, 2*time.Second) // a 429 may hold the call till the minute turns
	res, err := sessions[0].CallTool(lctx, &sdk.CallToolParams{Name: "get_patient", Arguments: map[string]any{"practice": "Lakeside"}})
	lcancel()
	if err == nil && !res.IsError {
		t.Fatal("the rate-limited practice answered")
	}
	report = statusJSON(t, ctx, bin, env, statusUnhealthy)
	for i, sv := range report.Servers {
		lakeside := "ready"
		if i == 0 { // the server that met the 429; the other has not asked Lakeside anything
			lakeside = "rate-limited"
		}
		if got := stateIn(sv, "Sunrise") + " " + stateIn(sv, "Lakeside"); got != "ready "+lakeside {
			t.Fatalf("server %d: Sunrise, Lakeside = %s", sv.PID, got)
		}
		if sv.Tree == nil || sv.Started.IsZero() {
			t.Fatalf("server %d has no tree or start: %+v", sv.PID, sv)
		}
	}
	text, code := runBinary(t, ctx, bin, env, "status")
	if code != statusUnhealthy {
		t.Fatalf("status exited %d:\n%s", code, text)
	}
	for _, want := range []string{"rate-limited until", "needs-reconnect", "What to do:", `healow connect --name "Revoked"`, "├─ practices"} {
		if !strings.Contains(text, want) {
			t.Fatalf("status lacks %q:\n%s", want, text)
		}
	}

	// practices lists all three; audit has what the tools read, and no more.
	var practices []practiceRow
	runJSON(t, ctx, bin, env, &practices, "practices", "--json")
	if len(practices) != 3 {
		t.Fatalf("practices = %+v", practices)
	}
	var audit []auditRow
	runJSON(t, ctx, bin, env, &audit, "audit", "--json")
	if len(audit) != 3 || audit[0].Tool != "get_patient" || audit[1].Resources != 5 || audit[2].Practice != "Lakeside" || audit[2].Outcome == "ok" {
		t.Fatalf("audit = %+v", audit)
	}
	runJSON(t, ctx, bin, env, &audit, "audit", "--json", "--practice", "sunrise", "--since", "1h")
	if len(audit) != 2 {
		t.Fatalf("audit of Sunrise = %+v", audit)
	}
	for _, p := range practices { // nothing the status or audit commands print names the patient
		for _, cmd := range [][]string{{"status"}, {"audit"}} {
			if s, _ := runBinary(t, ctx, bin, env, cmd...); strings.Contains(s, p.PatientID) {
				t.Fatalf("healow %s shows a patient id", cmd[0])
			}
		}
	}

	// disconnect: both servers drop Revoked at once, and its keychain items are gone.
	text, code = runBinary(t, ctx, bin, env, "disconnect", "Revoked")
	if code != 0 || !strings.Contains(text, "2 running healow serve stopped serving it") {
		t.Fatalf("disconnect (%d): %s", code, text)
	}
	report = statusJSON(t, ctx, bin, env, statusUnhealthy) // Lakeside is still rate-limited
	for _, sv := range report.Servers {
		if len(sv.Practices) != 2 || stateIn(sv, "Revoked") != "" {
			t.Fatalf("server %d still serves Revoked: %+v", sv.PID, sv.Practices)
		}
	}
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		if _, err := vault.NewKeychain().Get(ids["Revoked"], kind); !errors.Is(err, vault.ErrSecretNotFound) {
			t.Fatalf("Revoked's %s survived: %v", kind, err)
		}
	}

	// connect again for an existing name reconnects it in place.
	if id := connectWithBinary(t, ctx, bin, env, ca, "Sunrise", first["FEIGCD"]); id != ids["Sunrise"] {
		t.Fatalf("reconnecting Sunrise made %s, not %s", id, ids["Sunrise"])
	}

	// A server killed outright is never shown: its socket is removed.
	killed := exec.Command(bin, "serve")
	killed.Env = env
	stdin, _ := killed.StdinPipe()
	defer stdin.Close()
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	socket := status.SocketPath(filepath.Join(filepath.Dir(storePath), "run"), killed.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the third server never listened")
		}
	}
	killed.Process.Kill()
	killed.Wait()
	report = statusJSON(t, ctx, bin, env, statusUnhealthy)
	if len(report.Servers) != 2 {
		t.Fatalf("a killed server is shown: %+v", report.Servers)
	}
	if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the killed server's socket is still there: %v", err)
	}

	// --watch refreshes every second until interrupted.
	watch := exec.CommandContext(ctx, bin, "status", "--watch", "--json")
	watch.Env = env
	var watched bytes.Buffer
	watch.Stdout = &watched
	watch.Start()
	time.Sleep(2500 * time.Millisecond)
	watch.Process.Signal(syscall.SIGINT)
	watch.Wait()
	if n := strings.Count(watched.String(), "\n"); n < 2 || n > 4 {
		t.Fatalf("--watch printed %d snapshots in 2.5s", n)
	}

	// With no server running, status still shows the stored practices, not running.
	for _, cs := range sessions {
		cs.Close()
	}
	text, code = runBinary(t, ctx, bin, env, "status")
	if code != statusNoServer || !strings.Contains(text, "No healow serve is running") || strings.Count(text, "not running") != 2 ||
		!strings.Contains(text, "rate-limited") && !strings.Contains(text, "ready") {
		t.Fatalf("status with no server (%d):\n%s", code, text)
	}
}

func startSandbox(t *testing.T, ctx context.Context, bin string, env []string, ca string, args ...string) map[string]string {
	t.Helper()
	sb := exec.CommandContext(ctx, bin, append([]string{"sandbox", "--addr", "127.0.0.1:0", "--ca-file", ca}, args...)...)
	sb.Env = env
	out, _ := sb.StdoutPipe()
	var log bytes.Buffer
	sb.Stderr = &log
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Process.Kill(); sb.Wait() })
	bases := map[string]string{}
	lines := bufio.NewScanner(out)
	for len(bases) < 2 && lines.Scan() {
		code, base, _ := strings.Cut(lines.Text(), " ")
		bases[code] = base
	}
	if len(bases) < 2 {
		t.Fatalf("the sandbox printed %v: %s", bases, log.String())
	}
	go io.Copy(io.Discard, out)
	return bases
}

// connectWithBinary runs healow connect with a browser that follows the sign-in URL, and returns
// the practice id it printed.
func connectWithBinary(t *testing.T, ctx context.Context, bin string, env []string, ca, name, base string) string {
	t.Helper()
	conn := exec.CommandContext(ctx, bin, "connect", "--name", name, "--fhir-base-url", base, "--no-browser")
	conn.Env = env
	out, _ := conn.StdoutPipe()
	var log bytes.Buffer
	conn.Stderr = &log
	if err := conn.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	lines.Scan()
	browse(t, ca, lines.Text())
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text())
	}
	if err := conn.Wait(); err != nil {
		t.Fatalf("connect %s: %v\n%s", name, err, log.String())
	}
	_, after, _ := strings.Cut(rest.String(), "(practice id ")
	id, _, _ := strings.Cut(after, ")")
	if id == "" {
		t.Fatalf("connect %s printed %q", name, rest.String())
	}
	return id
}

// runBinary runs healow with args and returns its stdout and exit status.
func runBinary(t *testing.T, ctx context.Context, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
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

func runJSON(t *testing.T, ctx context.Context, bin string, env []string, v any, args ...string) {
	t.Helper()
	out, code := runBinary(t, ctx, bin, env, args...)
	if code != 0 {
		t.Fatalf("healow %v exited %d: %s", args, code, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("healow %v: %v in %s", args, err, out)
	}
}

// statusJSON runs healow status --json and checks that it exits with one of want.
func statusJSON(t *testing.T, ctx context.Context, bin string, env []string, want ...int) statusReport {
	t.Helper()
	out, code := runBinary(t, ctx, bin, env, "status", "--json")
	var r statusReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status --json: %v in %s", err, out)
	}
	if !slices.Contains(want, code) {
		t.Fatalf("status exited %d, want %d: %s", code, want, out)
	}
	return r
}

func stateIn(sv serverReport, name string) string {
	for _, p := range sv.Practices {
		if p.Name == name {
			return string(p.State)
		}
	}
	return ""
}

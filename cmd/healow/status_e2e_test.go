package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
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
	dir := t.TempDir()
	storePath := filepath.Join(dir, "store", "tokens.db")
	ca := filepath.Join(dir, "ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCLI(t, ctx, append(clientEnv(t, "status", dir, ca), "HEALOW_ALLOWED_HOSTS=127.0.0.1", "NO_COLOR=1"))

	// Two sandboxes, since a fault holds for a practice code and the sandbox has two: the first
	// rate-limits AACJCD, the second issues two-second tokens for FEIGCD and refuses to renew them.
	first := c.sandbox(t, filepath.Join(dir, "ca1.pem"), "--fault", "AACJCD=rate-limited").bases
	second := c.sandbox(t, filepath.Join(dir, "ca2.pem"), "--token-ttl", "2s", "--fault", "FEIGCD=revoke-refresh").bases
	var pems []byte
	for _, f := range []string{"ca1.pem", "ca2.pem"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		pems = append(pems, b...)
	}
	os.WriteFile(ca, pems, 0o600)
	practices := []struct{ name, base string }{{"Sunrise", first["FEIGCD"]}, {"Lakeside", first["AACJCD"]}, {"Revoked", second["FEIGCD"]}}
	ids := map[string]string{}
	t.Cleanup(func() {
		for _, id := range ids {
			deleteKeychainItems(id)
		}
	})
	step(t, "connect three practices", func(t *testing.T) {
		for _, p := range practices {
			ids[p.name] = c.connect(t, p.name, p.base, signInAt(ca)).id
		}
	})
	// What differs from run to run in the tables, and what to call it.
	scrub := scrubber{}.with(ids["Sunrise"], "<Sunrise id>").with(ids["Lakeside"], "<Lakeside id>").with(ids["Revoked"], "<Revoked id>").
		with(hostOf(t, first["FEIGCD"]), "<first sandbox>").with(hostOf(t, second["FEIGCD"]), "<second sandbox>")

	sessions := []*sdk.ClientSession{c.serve(t, "status-e2e", nil), c.serve(t, "status-e2e", nil)}
	// A typed search reads every match from the practice and shows the model the first page; the
	// audit counts what the practice returned, which the result's total says.
	var labs struct {
		Total    int `json:"total"`
		Returned int `json:"returned"`
	}
	step(t, "read through the tools", func(t *testing.T) {
		var out struct{}
		callJSON(t, ctx, sessions[0], "get_patient", map[string]any{"practice": "Sunrise"}, &out)
		callJSON(t, ctx, sessions[0], "search_observation", map[string]any{"practice": "Sunrise", "category": "laboratory", "count": 5}, &labs)
		if labs.Returned != 5 || labs.Total <= 5 {
			t.Fatalf("search_observation returned %d of %d", labs.Returned, labs.Total)
		}
	})

	// Once the two-second token has lapsed and its renewal was refused, both servers show Revoked
	// needing a reconnect.
	step(t, "both servers show the refused renewal", func(t *testing.T) {
		start := time.Now()
		for {
			report := c.statusJSON(t, statusHealthy, statusUnhealthy) // healthy until the token lapses
			if len(report.Servers) == 2 && stateIn(report.Servers[0], "Revoked") == "needs-reconnect" && stateIn(report.Servers[1], "Revoked") == "needs-reconnect" {
				return
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("status never showed the revoked grant: %+v", report)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	// Right after a 429, the first server shows Lakeside rate-limited. The hold lasts until the
	// wall-clock minute turns, so the call is not made in a minute's last seconds.
	step(t, "the server that met a 429 shows it", func(t *testing.T) {
		if into := time.Since(time.Now().Truncate(time.Minute)); into > 50*time.Second {
			time.Sleep(time.Minute - into)
		}
		lctx, lcancel := context.WithTimeout(ctx, 2*time.Second) // a 429 may hold the call till the minute turns
		res, err := sessions[0].CallTool(lctx, &sdk.CallToolParams{Name: "get_patient", Arguments: map[string]any{"practice": "Lakeside"}})
		lcancel()
		if err == nil && !res.IsError {
			t.Fatal("the rate-limited practice answered")
		}
		report := c.statusJSON(t, statusUnhealthy)
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
		text, code := c.run(t, "status")
		if code != statusUnhealthy {
			t.Fatalf("status exited %d:\n%s", code, text)
		}
		for _, want := range []string{"rate-limited until", "needs-reconnect", "What to do:", `healow connect --name "Revoked"`, "├─ practices"} {
			if !strings.Contains(text, want) {
				t.Fatalf("status lacks %q:\n%s", want, text)
			}
		}
	})

	// practices lists all three; audit has what the tools read, and no more.
	var listed []practiceRow
	step(t, "practices", func(t *testing.T) {
		c.runJSON(t, &listed, "practices", "--json")
		if len(listed) != 3 {
			t.Fatalf("practices = %+v", listed)
		}
	})
	step(t, "audit", func(t *testing.T) {
		var audit []auditRow
		c.runJSON(t, &audit, "audit", "--json")
		if len(audit) != 3 || audit[0].Tool != "get_patient" || audit[1].Resources != labs.Total || audit[2].Practice != "Lakeside" || audit[2].Outcome == "ok" {
			t.Fatalf("audit = %+v", audit)
		}
		c.runJSON(t, &audit, "audit", "--json", "--practice", "sunrise", "--since", "1h")
		if len(audit) != 2 {
			t.Fatalf("audit of Sunrise = %+v", audit)
		}
		text, code := c.run(t, "audit", "--practice", "sunrise")
		if code != 0 {
			t.Fatalf("audit exited %d: %s", code, text)
		}
		testenv.Golden(t, "testdata/e2e-audit-sunrise.golden", []byte(scrub.with(strconv.Itoa(audit[0].PID), "<first server>").table(text)))
	})
	step(t, "status and audit show no patient id", func(t *testing.T) {
		for _, p := range listed {
			for _, cmd := range [][]string{{"status"}, {"audit"}} {
				if s, _ := c.run(t, cmd...); strings.Contains(s, p.PatientID) {
					t.Fatalf("healow %s shows a patient id", cmd[0])
				}
			}
		}
	})

	step(t, "disconnect drops it from both servers, the keychain and the store", func(t *testing.T) {
		text, code := c.run(t, "disconnect", "Revoked")
		if code != 0 || !strings.Contains(text, "2 running healow serve stopped serving it") {
			t.Fatalf("disconnect (%d): %s", code, text)
		}
		report := c.statusJSON(t, statusUnhealthy) // Lakeside is still rate-limited
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
		text, code = c.run(t, "practices")
		if code != 0 || strings.Contains(text, "Revoked") {
			t.Fatalf("practices (%d) still lists Revoked: %s", code, text)
		}
		testenv.Golden(t, "testdata/e2e-practices.golden", []byte(scrub.table(text)))
	})

	step(t, "connect again for an existing name reconnects it in place", func(t *testing.T) {
		if id := c.connect(t, "Sunrise", first["FEIGCD"], signInAt(ca)).id; id != ids["Sunrise"] {
			t.Fatalf("reconnecting Sunrise made %s, not %s", id, ids["Sunrise"])
		}
	})

	step(t, "a server killed outright is never shown", func(t *testing.T) {
		killed := c.command("serve")
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
		report := c.statusJSON(t, statusUnhealthy)
		if len(report.Servers) != 2 {
			t.Fatalf("a killed server is shown: %+v", report.Servers)
		}
		if _, err := os.Stat(socket); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the killed server's socket is still there: %v", err)
		}
	})

	step(t, "--watch refreshes every second until interrupted", func(t *testing.T) {
		watch := c.command("status", "--watch", "--json")
		var watched bytes.Buffer
		watch.Stdout = &watched
		watch.Start()
		time.Sleep(2500 * time.Millisecond)
		watch.Process.Signal(syscall.SIGINT)
		watch.Wait()
		if n := strings.Count(watched.String(), "\n"); n < 2 || n > 4 {
			t.Fatalf("--watch printed %d snapshots in 2.5s", n)
		}
	})

	step(t, "with no server running, status shows the stored practices", func(t *testing.T) {
		for _, cs := range sessions {
			cs.Close()
		}
		text, code := c.run(t, "status")
		if code != statusNoServer || !strings.Contains(text, "No healow serve is running") || strings.Count(text, "not running") != 2 ||
			!strings.Contains(text, "rate-limited") && !strings.Contains(text, "ready") {
			t.Fatalf("status with no server (%d):\n%s", code, text)
		}
	})
}

func stateIn(sv serverReport, name string) string {
	for _, p := range sv.Practices {
		if p.Name == name {
			return string(p.State)
		}
	}
	return ""
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
	"github.com/healow-mcp/healow-mcp/vault"
)

// BenchmarkServeStart is the time from spawning the built healow serve to the end of the MCP
// handshake (initialize answered, initialized sent), and to its tools listed, as a client such
// as Claude Desktop starts it, against the bare go-sdk server of testdata/bareserver. Each op
// starts one process; stopping it is not timed. healow's store is an empty one on disk.
func BenchmarkServeStart(b *testing.B) {
	store := filepath.Join(b.TempDir(), "store", "tokens.db")
	healow, bare := binary(b), bareServer(b) // built before anything is timed
	for _, srv := range []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"healow", func() *exec.Cmd {
			cmd := exec.Command(healow, "serve")
			cmd.Env = append(os.Environ(), "HEALOW_CLIENT_ID=c", "HEALOW_CLIENT_SECRET=s", "HEALOW_REDIRECT_URI=http://127.0.0.1:1/cb",
				"HEALOW_TOKEN_STORE="+store)
			return cmd
		}},
		{"bare", func() *exec.Cmd { return exec.Command(bare) }},
	} {
		for _, list := range []bool{false, true} {
			name := srv.name + "/initialized"
			if list {
				name = srv.name + "/tools-listed"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					cs, err := sdk.NewClient(&sdk.Implementation{Name: "bench"}, nil).Connect(ctx, &sdk.CommandTransport{Command: srv.cmd()}, nil)
					if err != nil {
						b.Fatal(err)
					}
					if list {
						if tools, err := cs.ListTools(ctx, nil); err != nil || len(tools.Tools) == 0 {
							b.Fatalf("tools/list: %v", err)
						}
					}
					b.StopTimer()
					if err := cs.Close(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkServePath is BenchmarkPath of package mcp over stdio: the built healow serve, as
// Claude Desktop runs it, against the same direct GET and the bare go-sdk server's passthrough
// tool (testdata/bareserver), for a typed search of 20 lab results and a read of the patient.
// healow keeps its tokens in the OS keychain, so this needs one (see requireKeychain).
func BenchmarkServePath(b *testing.B) {
	requireKeychain(b)
	ctx := context.Background()
	dir := b.TempDir()
	reg := sandbox.DefaultClient()
	sb, err := sandbox.Start(sandbox.Options{Client: reg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sb.Close)
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, sb.CACertPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	hosts, err := egress.Parse(sb.Host())
	if err != nil {
		b.Fatal(err)
	}
	storePath := filepath.Join(dir, "store", "tokens.db")
	store, err := vault.Open(storePath)
	if err != nil {
		b.Fatal(err)
	}
	// The practice is connected as healow connect does it, into the real keychain.
	hc := newHTTPClient(sb.CertPool(), hosts)
	p := sb.Practices()[0]
	conn := newConnector(client{id: reg.ID, secret: reg.Secret, redirectURI: reg.RedirectURIs[0], hosts: hosts}, store, vault.NewKeychain(), hc)
	statesCtx, stopStates := context.WithCancel(ctx)
	defer stopStates()
	go conn.States.Serve(statesCtx) // the pending sign-in's actor, as healow connect runs it
	auth, err := conn.Begin(ctx, p.Name, p.BaseURL)
	if err != nil {
		b.Fatal(err)
	}
	redirect, err := sb.Consent(ctx, auth.URL)
	if err != nil {
		b.Fatal(err)
	}
	stored, err := conn.Complete(ctx, redirect, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { deleteKeychainItems(stored.ID) })
	store.Close()
	token, err := vault.NewKeychain().Get(stored.ID, vault.AccessToken)
	if err != nil {
		b.Fatal(err)
	}

	serve := exec.Command(binary(b), "serve")
	serve.Env = append(os.Environ(), "HEALOW_CLIENT_ID="+reg.ID, "HEALOW_CLIENT_SECRET="+reg.Secret, "HEALOW_REDIRECT_URI="+reg.RedirectURIs[0],
		"HEALOW_TOKEN_STORE="+storePath, "SSL_CERT_FILE="+ca, "HEALOW_ALLOWED_HOSTS=127.0.0.1",
		"HEALOW_RATE_LIMIT=100000000") // far above eCW's 250 a minute: this measures the path, not the limiter
	healow := stdioSession(b, serve)
	bare := exec.Command(bareServer(b))
	bare.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
	passthrough := stdioSession(b, bare)

	lab, err := fhir.LookupCategory("Observation", "laboratory")
	if err != nil {
		b.Fatal(err)
	}
	// A typed search asks for pages of 100 and reads all 28 lab results before it orders them and
	// shows 20; the raw search asks for 20. Each is compared with its own GET.
	labs := func(count string) string {
		return p.BaseURL + "/Observation?" + url.Values{"category": {lab.System + "|" + lab.Code}, "patient": {p.PatientID}, "_count": {count}}.Encode()
	}
	for _, bc := range []struct {
		name, url string
		entries   int
		tools     map[string]map[string]any
	}{
		{"search-20", labs("100"), 28, map[string]map[string]any{
			"search_observation": {"category": "laboratory", "count": 20},
		}},
		{"search-20", labs("20"), 20, map[string]map[string]any{
			"fhir_search": {"resource": "Observation", "params": map[string]any{"category": lab.System + "|" + lab.Code, "_count": "20"}},
		}},
		{"read", p.BaseURL + "/Patient/" + p.PatientID, 0, map[string]map[string]any{
			"get_patient": nil,
			"fhir_get":    {"resource": "Patient", "id": p.PatientID},
		}},
	} {
		body, err := testenv.GetFHIR(ctx, hc, bc.url, token)
		if err != nil {
			b.Fatal(err)
		}
		var answer struct{ Entry []json.RawMessage }
		if json.Unmarshal(body, &answer); len(answer.Entry) != bc.entries {
			b.Fatalf("the direct GET found %d entries, want %d", len(answer.Entry), bc.entries)
		}
		count := ""
		if bc.entries > 0 {
			count = "-of-" + strconv.Itoa(bc.entries)
		}
		b.Run(bc.name+count+"/direct", func(b *testing.B) {
			for b.Loop() {
				if _, err := testenv.GetFHIR(ctx, hc, bc.url, token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+count+"/passthrough", func(b *testing.B) {
			defer serverCPU(b, bare)()
			for b.Loop() {
				stdioCall(b, passthrough, "get", map[string]any{"url": bc.url, "token": token})
			}
		})
		for _, tool := range []string{"search_observation", "fhir_search", "get_patient", "fhir_get"} {
			args, ok := bc.tools[tool]
			if !ok {
				continue
			}
			b.Run(bc.name+count+"/"+tool, func(b *testing.B) {
				defer serverCPU(b, serve)()
				for b.Loop() {
					stdioCall(b, healow, tool, args)
				}
			})
		}
	}
}

// serverCPU reports, when the returned function is called, the CPU time the server process
// spent per op: unlike the time per op, it does not depend on what else the machine runs.
// Linux only (it reads /proc); elsewhere it reports nothing.
func serverCPU(b *testing.B, server *exec.Cmd) func() {
	before, ok := processCPU(server.Process.Pid)
	return func() {
		if after, ok2 := processCPU(server.Process.Pid); ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(after-before)/float64(time.Millisecond)/float64(b.N), "server-cpu-ms/op")
		}
	}
}

// processCPU is the user and system time a process has used, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces; the fields after it are plain.
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const tick = 10 * time.Millisecond // USER_HZ, 100 on every Linux Go runs on
	return time.Duration(utime+stime) * tick, true
}

// stdioSession starts cmd under the SDK's client until the benchmark ends.
func stdioSession(b *testing.B, cmd *exec.Cmd) *sdk.ClientSession {
	b.Helper()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bench"}, nil).Connect(context.Background(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cs.Close() })
	return cs
}

func stdioCall(b *testing.B, cs *sdk.ClientSession, tool string, args map[string]any) {
	b.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		b.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		b.Fatalf("%s: tool error %+v", tool, res.Content[0])
	}
}

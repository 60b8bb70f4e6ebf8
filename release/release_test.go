package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// bundled is what a test reads of a bundle's manifest.
type bundled struct {
	Version string `json:"version"`
	Server  struct {
		Type       string `json:"type"`
		EntryPoint string `json:"entry_point"`
		MCPConfig  struct {
			Command   string            `json:"command"`
			Args      []string          `json:"args"`
			Env       map[string]string `json:"env"`
			Overrides map[string]struct {
				Command string `json:"command"`
			} `json:"platform_overrides"`
		} `json:"mcp_config"`
	} `json:"server"`
	Compatibility struct {
		Platforms []string `json:"platforms"`
	} `json:"compatibility"`
	Tools []manifestTool `json:"tools"`
}

// TestReleasePacksABundleThatServes runs the release for this machine's platform, as
// `go run ./release -platforms` does, and then does with the bundle what Claude Desktop does:
// unpacks it, starts the command its manifest names with the settings filled in, and speaks
// MCP to it over stdio. (The first run compiles healow for the release; later runs take the
// compiled packages from Go's build cache and only link.)
func TestReleasePacksABundleThatServes(t *testing.T) {
	t.Parallel()
	host, err := parseTarget(runtime.GOOS + "/" + runtime.GOARCH)
	if err != nil {
		t.Skipf("no release ships for this machine: %v", err)
	}
	ctx := t.Context()
	root, err := moduleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	done, err := release{root: root, out: out, version: "v1.2.3"}.build(ctx, []target{host})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || filepath.Base(done[0].bundle) != "healow-v1.2.3-"+host.String()+".mcpb" {
		t.Fatalf("the release built %v, want one bundle named for v1.2.3 and %s", done, host)
	}

	z, err := zip.OpenReader(done[0].bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	if want := []string{"manifest.json", "server/" + host.exe()}; !slices.Equal(names, want) {
		t.Fatalf("the bundle holds %v, want %v", names, want)
	}
	var m bundled
	if err := json.Unmarshal(read(t, z.File[0]), &m); err != nil {
		t.Fatalf("the bundle's manifest.json: %v", err)
	}
	if m.Version != "1.2.3" || m.Server.Type != "binary" || m.Server.EntryPoint != "server/"+host.exe() ||
		!slices.Equal(m.Compatibility.Platforms, []string{platformOf(host.goos)}) {
		t.Errorf("the bundle's manifest says version %q, server %s at %s, platforms %v; want 1.2.3, binary at server/%s, [%s]",
			m.Version, m.Server.Type, m.Server.EntryPoint, m.Compatibility.Platforms, host.exe(), platformOf(host.goos))
	}
	if len(m.Tools) == 0 {
		t.Error("the bundle's manifest lists no tools")
	}
	bin := z.File[1]
	if runtime.GOOS != "windows" && bin.Mode()&0o111 == 0 {
		t.Errorf("server/%s is not executable in the bundle (mode %v)", host.exe(), bin.Mode())
	}

	// Unpacked as Claude Desktop unpacks it, the mode taken from the zip.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "server"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(bin.Name)), read(t, bin), bin.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{
		"${__dirname}":                 dir,
		"${user_config.client_id}":     "bundle-test-client",
		"${user_config.client_secret}": "bundle-test-secret",
		"${user_config.redirect_uri}":  "http://127.0.0.1:8765/callback",
	}
	fill := func(s string) string {
		for k, v := range settings {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
	command := m.Server.MCPConfig.Command
	if o, ok := m.Server.MCPConfig.Overrides[platformOf(runtime.GOOS)]; ok && o.Command != "" {
		command = o.Command
	}
	var args []string
	for _, a := range m.Server.MCPConfig.Args {
		args = append(args, fill(a))
	}
	cmd := exec.CommandContext(ctx, fill(command), args...)
	cmd.Env = append(os.Environ(), "HEALOW_TOKEN_STORE="+filepath.Join(t.TempDir(), "tokens.db"))
	for k, v := range m.Server.MCPConfig.Env {
		if v = fill(v); strings.Contains(v, "${") {
			t.Errorf("the manifest sets %s to %q, which names a setting it does not declare", k, v)
		}
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = io.Discard // its log; stdout carries MCP

	cs, err := sdk.NewClient(&sdk.Implementation{Name: "bundle-test", Version: "0"}, nil).
		Connect(ctx, &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("starting the bundle's server as its manifest says: %v", err)
	}
	defer cs.Close()
	if info := cs.InitializeResult().ServerInfo; info.Name != "healow-mcp" {
		t.Errorf("the bundle's server calls itself %q, want healow-mcp", info.Name)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != len(m.Tools) {
		t.Errorf("the bundle's server lists %d tools, its manifest %d", len(tools.Tools), len(m.Tools))
	}
	// Its user has no healow on the PATH, and is told what to ask for in the chat instead.
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "whoami"})
	if err != nil {
		t.Fatal(err)
	}
	var said strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*sdk.TextContent); ok {
			said.WriteString(tc.Text)
		}
	}
	if !res.IsError || !strings.Contains(said.String(), "connect_practice") || strings.Contains(said.String(), "`healow") {
		t.Errorf("whoami with no practice, in the bundle: %q; want advice to call connect_practice, not to run healow", said.String())
	}
}

func read(t *testing.T, f *zip.File) []byte {
	t.Helper()
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManifestVersionIsSemantic: the manifest's version comes from the tag, without its v, and
// a tag that is no semantic version stops the release rather than packing a bundle clients
// refuse.
func TestManifestVersionIsSemantic(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": devVersion, "v1.2.3": "1.2.3", "0.4.0-rc.1": "0.4.0-rc.1", "v2.0.0+build.5": "2.0.0+build.5"} {
		if got, err := manifestVersion(in); err != nil || got != want {
			t.Errorf("manifestVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"v1.2", "8123400-dirty", "v01.2.3", "latest"} {
		if got, err := manifestVersion(in); err == nil {
			t.Errorf("manifestVersion(%q) = %q, want an error", in, got)
		}
	}
}

package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

// Every command in the table has help a person can use: a one-line synopsis, its usage, an
// example as typed, and the environment it reads, each variable described once. A command added
// later is held to it as soon as it is in the table.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for name, cmd := range commands {
		h := cmd.help
		if h == nil || cmd.run == nil {
			t.Errorf("%s: no help or no run", name)
			continue
		}
		if h.name != name {
			t.Errorf("%s: its help is named %q", name, h.name)
		}
		if h.synopsis == "" || strings.ContainsAny(h.synopsis, "\n") || len(h.synopsis) > 80 {
			t.Errorf("%s: synopsis %q, want one line of at most 80 characters", name, h.synopsis)
		}
		if !strings.HasPrefix(h.usage+" ", "healow "+name+" ") {
			t.Errorf("%s: usage %q", name, h.usage)
		}
		if !strings.HasPrefix(h.example, "healow "+name) {
			t.Errorf("%s: example %q does not start with the command", name, h.example)
		}
		for _, v := range h.env {
			if meaning(v) == "" {
				t.Errorf("%s reads %s, which environment does not describe", name, v)
			}
		}
	}
	top := usage()
	for name, cmd := range commands {
		if cmd.help.internal {
			if strings.Contains(top, "  "+name+" ") || !strings.HasPrefix(cmd.help.synopsis, "internal: ") {
				t.Errorf("healow help lists %s, which healow runs itself, or its synopsis does not say so:\n%s", name, top)
			}
			continue
		}
		if !strings.Contains(top, "  "+name+" ") || !strings.Contains(top, cmd.help.synopsis+"\n") {
			t.Errorf("healow help does not list %s by its synopsis:\n%s", name, top)
		}
	}
	for _, v := range environment {
		if !strings.Contains(top, "  "+v.name+" ") {
			t.Errorf("healow help does not describe %s", v.name)
		}
	}
}

// The built healow prints each command's help for `healow NAME --help`, `-h` and `healow help
// NAME` alike, on stdout with status 0, with its flags; a few are compared with
// testdata/help-*.golden. An unknown command names the commands there are.
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newCLI(t, ctx, os.Environ())
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		h := commands[name].help
		out, code := c.run(t, name, "--help")
		if code != 0 {
			t.Fatalf("healow %s --help exited %d: %s", name, code, out)
		}
		for _, args := range [][]string{{"help", name}, {name, "-h"}} {
			if again, code := c.run(t, args...); again != out || code != 0 {
				t.Fatalf("healow %v (status %d) differs from healow %s --help:\n%s", args, code, name, testenv.LineDiff(out, again))
			}
		}
		for _, want := range []string{"healow " + name + ": " + h.synopsis + "\n", "\nUsage:\n  " + h.usage + "\n",
			"\nExample:\n  healow " + name, "\nEnvironment:\n  "} {
			if !strings.Contains(out, want) {
				t.Fatalf("healow %s --help lacks %q:\n%s", name, want, out)
			}
		}
		section := ""
		for line := range strings.Lines(out) {
			if !strings.HasPrefix(line, " ") {
				section = line
			}
			if len(line) > width+1 && section != "Example:\n" {
				t.Errorf("healow %s --help: a line of %d characters in %q", name, len(line)-1, section)
			}
		}
		if strings.Contains(out, "Usage of") {
			t.Fatalf("healow %s --help prints the flag package's usage:\n%s", name, out)
		}
		if slices.Contains([]string{"connect", "serve", "status", "sandbox"}, name) {
			testenv.Golden(t, filepath.Join("testdata", "help-"+name+".golden"), []byte(out))
		}
	}

	out, code := c.run(t, "help", "nosuch")
	if code != 2 || !strings.Contains(out, `unknown command "nosuch"`) {
		t.Fatalf("healow help nosuch: status %d: %s", code, out)
	}
	for name, cmd := range commands {
		if !cmd.help.internal && !strings.Contains(out, "  "+name+" ") {
			t.Fatalf("healow help nosuch does not list %s:\n%s", name, out)
		}
	}
	if top, code := c.run(t, "help"); code != 0 || top != usage() {
		t.Fatalf("healow help: status %d:\n%s", code, top)
	}
	// A flag that does not exist is refused with the usage, and --help is not needed to see it.
	out, code = c.run(t, "status", "--nosuch")
	if code != 1 || !strings.Contains(out, "flag provided but not defined: -nosuch") || !strings.Contains(out, "usage: "+statusHelp.usage) {
		t.Fatalf("healow status --nosuch: status %d: %s", code, out)
	}
}

// A release build's stamped version is what healow version and --version print, what an MCP
// client sees as serverInfo.version, what healow serve logs when it starts, and what healow
// status shows for that server.
func TestStampedVersionEverywhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := cli{bin: stampedBinary(t), ctx: ctx, env: append(os.Environ(),
		"HEALOW_CLIENT_ID=version-client", "HEALOW_CLIENT_SECRET=version-secret", "HEALOW_REDIRECT_URI=http://127.0.0.1:1/callback",
		"HEALOW_TOKEN_STORE="+filepath.Join(dir, "store", "tokens.db"), "HEALOW_LOG_LEVEL=debug", "NO_COLOR=1")}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if out, code := c.run(t, args...); code != 0 || out != stampedVersion+"\n" {
			t.Fatalf("healow %v: status %d: %q", args, code, out)
		}
	}

	log := &signalWriter{want: "answering healow status", seen: make(chan struct{})}
	cs := c.serve(t, "version-test", log)
	if v := cs.InitializeResult().ServerInfo.Version; v != stampedVersion {
		t.Fatalf("serverInfo.version = %q", v)
	}
	select {
	case <-log.seen:
	case <-ctx.Done():
		t.Fatalf("healow serve never answered healow status:\n%s", log.String())
	}
	r := c.statusJSON(t, statusHealthy)
	if len(r.Servers) != 1 || r.Servers[0].Version != stampedVersion {
		t.Fatalf("status --json: %+v", r.Servers)
	}
	if out, _ := c.run(t, "status"); !strings.Contains(out, ", version "+stampedVersion+", ") {
		t.Fatalf("status does not show the version:\n%s", out)
	}
	if err := cs.Close(); err != nil {
		t.Fatalf("healow serve ended with %v:\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), `msg="serving MCP on stdio" version=`+stampedVersion) {
		t.Fatalf("healow serve did not log its version:\n%s", log.String())
	}
}

// signalWriter keeps what is written to it, and closes seen once it holds want.
type signalWriter struct {
	want string
	seen chan struct{}
	mu   sync.Mutex
	b    strings.Builder
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) && w.want != "" {
		close(w.seen)
		w.want = ""
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

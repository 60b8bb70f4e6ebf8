package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// versionVar is the variable a release's version is stamped into at link time; a build that
// leaves it unset says its version from the build info (the module version, or the commit).
const versionVar = "github.com/healow-mcp/healow-mcp/internal/version.release"

// A target is one platform a release builds for, in Go's names.
type target struct{ goos, goarch string }

func parseTarget(s string) (target, error) {
	goos, goarch, ok := strings.Cut(s, "/")
	if !ok || goos == "" || goarch == "" || !slices.Contains(platforms, s) {
		return target{}, fmt.Errorf("platform %q: want one of %s", s, strings.Join(platforms, ", "))
	}
	return target{goos, goarch}, nil
}

func (t target) String() string { return t.goos + "-" + t.goarch }

// exe is the binary's name on the target: Windows runs only files ending in .exe.
func (t target) exe() string {
	if t.goos == "windows" {
		return "healow.exe"
	}
	return "healow"
}

// release is one run of the release: the repository it builds, where the results go, and the
// version they carry ("" for a build that is not a release).
type release struct {
	root, out, version string
}

// A built target: its bundle and the bundle's size.
type built struct {
	bundle string
	size   int64
}

// build builds and packs each target in turn, returning those done before any failure.
func (r release) build(ctx context.Context, targets []target) ([]built, error) {
	if _, err := manifestVersion(r.version); err != nil {
		return nil, err // before minutes of compiling
	}
	m, err := readManifest(filepath.Join(r.root, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var done []built
	for _, t := range targets {
		dir := filepath.Join(r.out, t.String())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return done, err
		}
		bin := filepath.Join(dir, t.exe())
		if err := r.compile(ctx, t, bin); err != nil {
			return done, err
		}
		name := "healow"
		if r.version != "" {
			name += "-" + r.version
		}
		bundle := filepath.Join(r.out, name+"-"+t.String()+".mcpb")
		size, err := pack(bundle, m, r.version, t, bin)
		if err != nil {
			return done, fmt.Errorf("packing %s: %w", t, err)
		}
		done = append(done, built{bundle, size})
	}
	return done, nil
}

// compile builds cmd/healow for t as a static binary. Nothing in healow needs cgo: SQLite is
// modernc.org/sqlite (pure Go), and go-keyring talks to the Secret Service over D-Bus in Go,
// to the macOS Keychain through /usr/bin/security, and to the Windows Credential Manager
// through syscalls, so CGO_ENABLED=0 cross-compiles every target from any machine.
// -trimpath keeps the builder's paths out of the binary; -s -w drop the symbol table and
// DWARF (panics still print their stack), a third of the size.
func (r release) compile(ctx context.Context, t target, bin string) error {
	ldflags := "-s -w"
	if r.version != "" {
		ldflags += " -X " + versionVar + "=" + r.version
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/healow")
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.goos, "GOARCH="+t.goarch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building for %s: %w\n%s", t, err, out)
	}
	return nil
}

// moduleRoot is the folder of healow's go.mod, so the release runs the same from any folder of
// the repository.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run go run ./release inside the healow-mcp repository")
	}
	return filepath.Dir(gomod), nil
}

// tagOfHead is the tag on the commit checked out, such as v1.2.3, or "" when there is none or
// git is not installed: such a build is not a release, and says its commit instead.
func tagOfHead(ctx context.Context, root string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--tags", "--exact-match", "HEAD")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

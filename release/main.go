// Command release builds healow for every platform it ships on and packs each build as an MCP
// bundle (.mcpb) that Claude Desktop installs with a double-click:
//
//	go run ./release                  # every platform, into dist/
//	go run ./release -version v1.2.3  # stamped with a release's version
//	go run ./release -platforms linux/amd64 -out /tmp/dist
//
// It is a Go program rather than a shell script so that a fresh machine with only Go can run it,
// Windows included: it needs no sh, zip or git (git, when present, names an untagged build's
// version), and archive/zip records the binary's executable bit in the bundle, as mcpb pack does,
// for the client to restore when it unpacks it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

// platforms are the GOOS/GOARCH pairs a release ships. The bundle format keys its platform
// overrides by OS alone (darwin, linux, win32), so each pair gets a bundle of its own.
var platforms = []string{"darwin/arm64", "darwin/amd64", "linux/amd64", "linux/arm64", "windows/amd64"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	version := fs.String("version", "", "the release's version, such as v1.2.3 (default: the tag of HEAD, if any)")
	out := fs.String("out", "", "where the binaries and bundles go (default: dist/ in the repository)")
	only := fs.String("platforms", strings.Join(platforms, ","), "GOOS/GOARCH pairs to build, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see go run ./release -h", fs.Arg(0))
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	r := release{root: root, out: *out, version: *version}
	if r.out == "" {
		r.out = root + string(os.PathSeparator) + "dist"
	}
	if r.version == "" {
		r.version = tagOfHead(ctx, root)
	}
	var targets []target
	for _, p := range strings.Split(*only, ",") {
		t, err := parseTarget(strings.TrimSpace(p))
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	built, err := r.build(ctx, targets)
	for _, b := range built {
		fmt.Printf("%s\t%d bytes\n", b.bundle, b.size)
	}
	return err
}

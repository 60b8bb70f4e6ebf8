// Package version says which healow this is: the one string that healow version prints, that
// MCP clients see as serverInfo.version and that healow status shows for each running server.
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
)

// release is the version a release build stamps, which wins over what the build info says:
//
//	go build -ldflags "-X github.com/healow-mcp/healow-mcp/internal/version.release=v1.2.3" ./cmd/healow
//
// Empty in every other build.
var release string

// String is this binary's version (see Format).
func String() string { return current() }

var current = sync.OnceValue(func() string {
	bi, _ := debug.ReadBuildInfo()
	return Format(bi, release)
})

// pseudo matches the end of a Go pseudo-version (v0.0.0-20261202034018-8123400f5873): a time
// and a commit, which say less than the commit alone with whether it was modified.
var pseudo = regexp.MustCompile(`[-.]\d{14}-[0-9a-f]{12}$`)

// Format is the version of a build with build info bi (nil when the binary has none) and the
// release version stamped into it (empty when none was):
//
//   - the stamped release version;
//   - else the module's version when it is a release (go install …@v1.2.3);
//   - else, for a build from a checkout, its commit (12 hex digits, as in a pseudo-version),
//     with "-modified" when the checkout had changes;
//   - else the module's pseudo-version (go install …@<commit>, which records no commit);
//   - else "dev" (go run, go test, or a build without VCS information, such as one from a git
//     worktree or with -buildvcs=false).
func Format(bi *debug.BuildInfo, stamped string) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return "dev"
	}
	v := bi.Main.Version
	// Since Go 1.24 a build from a checkout gets a pseudo-version, with "+dirty" when modified,
	// or the tag's version with "+dirty": neither is a release.
	checkout := strings.HasSuffix(v, "+dirty")
	v = strings.TrimSuffix(v, "+dirty")
	release := strings.HasPrefix(v, "v") && !pseudo.MatchString(strings.TrimSuffix(v, "+incompatible"))
	if release && !checkout {
		return v
	}
	var revision string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		if modified {
			revision += "-modified"
		}
		return revision
	}
	if strings.HasPrefix(v, "v") {
		return bi.Main.Version
	}
	return "dev"
}

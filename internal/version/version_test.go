package version

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	const rev = "8123400f5873400c32c8c7e91e5e0cc93737d008"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-12-02T03:40:18Z"}, {Key: "vcs.modified", Value: modified}}
	}
	build := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/healow-mcp/healow-mcp", Version: version}, Settings: settings}
	}
	for _, c := range []struct {
		name    string
		bi      *debug.BuildInfo
		stamped string
		want    string
	}{
		{"no build info", nil, "", "dev"},
		{"stamped by a release build", build("(devel)", vcs("true")), "v1.2.3", "v1.2.3"},
		{"stamped wins over the module's version", build("v1.2.2", nil), "v1.2.3", "v1.2.3"},
		{"go install at a tag", build("v1.2.3", nil), "", "v1.2.3"},
		{"go install at a prerelease tag", build("v1.3.0-rc.1", nil), "", "v1.3.0-rc.1"},
		{"incompatible major version", build("v2.0.0+incompatible", nil), "", "v2.0.0+incompatible"},
		{"go install at a commit", build("v0.0.0-20261202034018-8123400f5873", nil), "", "v0.0.0-20261202034018-8123400f5873"},
		{"go install at a commit after a tag", build("v1.2.4-0.20261202034018-8123400f5873", nil), "", "v1.2.4-0.20261202034018-8123400f5873"},
		{"checkout, clean, before Go 1.24", build("(devel)", vcs("false")), "", "8123400f5873"},
		{"checkout, modified, before Go 1.24", build("(devel)", vcs("true")), "", "8123400f5873-modified"},
		{"checkout, clean: a pseudo-version", build("v0.0.0-20261202034018-8123400f5873", vcs("false")), "", "8123400f5873"},
		{"checkout, modified: a pseudo-version", build("v0.0.0-20261202034018-8123400f5873+dirty", vcs("true")), "", "8123400f5873-modified"},
		{"checkout at a tag, clean", build("v1.2.3", vcs("false")), "", "v1.2.3"},
		{"checkout at a tag, modified", build("v1.2.3+dirty", vcs("true")), "", "8123400f5873-modified"},
		{"short revision", build("(devel)", []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}}), "", "abc123"},
		{"go run or go test", build("(devel)", nil), "", "dev"},
		{"no version at all", build("", nil), "", "dev"},
	} {
		if got := Format(c.bi, c.stamped); got != c.want {
			t.Errorf("%s: Format = %q, want %q", c.name, got, c.want)
		}
	}
}

// A test binary records no commit and is stamped with nothing: its version is "dev", and it
// is the same every time it is asked.
func TestString(t *testing.T) {
	t.Parallel()
	if release != "" {
		t.Skipf("stamped with %q", release)
	}
	if got := String(); got != "dev" || String() != got {
		t.Fatalf("String() = %q", got)
	}
}

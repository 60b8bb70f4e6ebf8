package testenv

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// UpdateVar rewrites every golden file the tests compare with (the CLI's tables, the MCP tools'
// snapshots) when set to 1, instead of comparing.
const UpdateVar = "HEALOW_UPDATE_SNAPSHOTS"

// Golden compares got with the file at path, or rewrites the file when UpdateVar is 1. A
// difference fails the test (and lets it go on) with the lines that differ, so a reviewer sees
// what changed without running anything.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if os.Getenv(UpdateVar) == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s does not exist: run the test with %s=1 to write it, and review it", path, UpdateVar)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the output differs from %s (- that file, + this run); if the change is meant, run the test with %s=1 and review the diff:\n%s",
			path, UpdateVar, LineDiff(string(want), string(got)))
	}
}

// LineDiff shows how got differs from want, line by line, as a unified diff with three lines
// of context: "-" lines are only in want, "+" lines only in got.
func LineDiff(want, got string) string { return lineDiff(want, got, 3) }

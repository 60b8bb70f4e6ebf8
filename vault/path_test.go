package vault

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// DefaultPath reads the environment, so these tests cannot run in parallel.
func TestDefaultPath(t *testing.T) {
	t.Run("env set", func(t *testing.T) {
		want := filepath.Join(t.TempDir(), "custom.db")
		t.Setenv(EnvTokenStore, want)
		got, err := DefaultPath()
		if err != nil || got != want {
			t.Errorf("DefaultPath() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("env empty", func(t *testing.T) {
		home := t.TempDir()
		t.Setenv(EnvTokenStore, "")
		t.Setenv("HOME", home)
		t.Setenv("USERPROFILE", home) // Windows
		got, err := DefaultPath()
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(home, ".healow-mcp", "tokens.db"); got != want {
			t.Errorf("DefaultPath() = %q, want %q", got, want)
		}
	})
}

func skipWithoutUnixModes(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	skipWithoutUnixModes(t)
	dir := filepath.Join(t.TempDir(), "a", ".healow-mcp")
	path := filepath.Join(dir, "tokens.db")
	s := openStoreAt(t, path, nil)
	if err := s.Save(t.Context(), samplePractice("Acme")); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("folder mode = %v, want 0700", got)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if got := mode(t, p); got != 0o600 {
			t.Errorf("%s mode = %v, want 0600", filepath.Base(p), got)
		}
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
}

func TestOpenTightensLooseModes(t *testing.T) {
	t.Parallel()
	skipWithoutUnixModes(t)
	dir := filepath.Join(t.TempDir(), "store")
	path := filepath.Join(dir, "tokens.db")
	// Make a real store with WAL files, then loosen everything as a careless copy would.
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Save(t.Context(), samplePractice("Acme")); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean close removes the WAL files; recreate them empty, as a crashed process leaves them.
	for _, p := range []string{path + "-wal", path + "-shm"} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	loose := map[string]fs.FileMode{dir: 0o755, path: 0o644, path + "-wal": 0o666, path + "-shm": 0o640}
	for p, m := range loose {
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
	}
	s := openStoreAt(t, path, nil)
	if ps, err := s.List(t.Context()); err != nil || len(ps) != 1 {
		t.Fatalf("List after reopening = %d practices, %v; want the one saved before", len(ps), err)
	}
	want := map[string]fs.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600}
	for p, m := range want {
		if got := mode(t, p); got != m {
			t.Errorf("%s mode = %v, want %v", p, got, m)
		}
	}
}

func TestOpenLeavesSharedFoldersAlone(t *testing.T) {
	t.Parallel()
	skipWithoutUnixModes(t)
	// A sticky, world-writable folder like /tmp must not be closed to other users just because
	// someone pointed HEALOW_TOKEN_STORE into it; the file itself is still private.
	dir := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokens.db")
	openStoreAt(t, path, nil)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o777 || fi.Mode()&fs.ModeSticky == 0 {
		t.Errorf("sticky folder mode = %v, want it untouched", fi.Mode())
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("file mode = %v, want 0600", got)
	}
}

func TestOpenRejectsUnusablePaths(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "isdir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path string }{
		{"empty", ""},
		{"a folder", filepath.Join(base, "isdir")},
		{"inside a file", filepath.Join(base, "file", "tokens.db")},
	}
	for _, tt := range tests {
		if s, err := Open(tt.path); err == nil {
			_ = s.Close()
			t.Errorf("Open(%s) succeeded, want an error", tt.name)
		}
	}
}

func TestOpenPathNeedingEscapes(t *testing.T) {
	t.Parallel()
	// '?', '#', '%' and spaces would otherwise be read as URI syntax by the driver or SQLite.
	path := filepath.Join(t.TempDir(), "we?ird #dir%20", "tokens db?x=1")
	s := openStoreAt(t, path, nil)
	if err := s.Save(t.Context(), samplePractice("Acme")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

// TestPrepareFilesCreatesThePrivateFileFirst checks the step that runs before SQLite opens the
// file: it must already exist, empty and 0600, so SQLite never creates it with its own mode.
func TestPrepareFilesCreatesThePrivateFileFirst(t *testing.T) {
	t.Parallel()
	skipWithoutUnixModes(t)
	path := filepath.Join(t.TempDir(), "new", "tokens.db")
	if err := prepareFiles(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("after prepareFiles: size %d, mode %v; want an empty 0600 file", fi.Size(), fi.Mode().Perm())
	}
	// Preparing again (the next Open) keeps the file and its contents.
	if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := prepareFiles(path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
		t.Errorf("second prepareFiles changed the file: %q, %v", b, err)
	}
}

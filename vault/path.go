package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EnvTokenStore names the environment variable that overrides [DefaultPath].
const EnvTokenStore = "HEALOW_TOKEN_STORE"

// Permissions of the store's folder and files: the metadata is not secret, but it does say which
// practices a person uses, so only its owner may read it.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

// DefaultPath returns $HEALOW_TOKEN_STORE, or ~/.healow-mcp/tokens.db when it is unset.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvTokenStore); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("vault: cannot find your home directory for the token store; set %s to the path of the token store instead: %w", EnvTokenStore, err)
	}
	return filepath.Join(home, ".healow-mcp", "tokens.db"), nil
}

// prepareFiles makes sure the store's folder exists with mode 0700 and its database file exists
// with mode 0600 before SQLite opens it, so the file never exists with a looser mode. Existing
// folders and files that are looser are tightened, and so are SQLite's -wal and -shm files.
func prepareFiles(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("vault: create the token store folder %s: %w", dir, err)
	}
	if err := tightenDir(dir); err != nil {
		return err
	}

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	switch {
	case err == nil:
		// The umask may have removed bits SQLite needs (owner write); set exactly 0600.
		if err := f.Close(); err != nil {
			return fmt.Errorf("vault: create the token store %s: %w", path, err)
		}
		if err := os.Chmod(path, filePerm); err != nil {
			return fmt.Errorf("vault: set permissions of the token store %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrExist):
		// Opened before; fall through to tightening below.
	default:
		return fmt.Errorf("vault: create the token store %s: %w", path, err)
	}
	return tightenFiles(path)
}

// tightenFiles removes group and other permissions from the database file and, when present, its
// -wal and -shm files.
func tightenFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			return fmt.Errorf("vault: check permissions of %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("vault: token store %s is not a regular file: set %s to a file path", p, EnvTokenStore)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return fmt.Errorf("vault: restrict permissions of %s to its owner (mode %v): %w", p, perm, err)
			}
		}
	}
	return nil
}

// tightenDir removes group and other permissions from the store's folder. It leaves alone
// folders that are evidently shared rather than the store's own (sticky folders such as /tmp,
// the home folder, the root), because closing those would break other programs; the files
// inside are 0600 either way.
func tightenDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("vault: check the token store folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("vault: %s is not a folder: set %s to a file in a folder", dir, EnvTokenStore)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 || SharedFolder(dir) {
		return nil
	}
	if err := os.Chmod(dir, perm&^0o077); err != nil {
		return fmt.Errorf("vault: restrict the token store folder %s to its owner (mode %v): %w", dir, perm, err)
	}
	return nil
}

// SharedFolder reports whether dir is a folder the store leaves open when it tightens its own:
// one evidently shared rather than the store's (sticky, such as /tmp, the home folder, a root).
func SharedFolder(dir string) bool {
	if fi, err := os.Stat(dir); err == nil && fi.Mode()&fs.ModeSticky != 0 {
		return true
	}
	return sharedDir(dir)
}

// sharedDir reports whether dir is the home folder or a filesystem root.
func sharedDir(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return true // unknown: err on the side of not touching it
	}
	if filepath.Dir(abs) == abs {
		return true
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return false
	}
	same, err := sameFile(abs, home)
	return err == nil && same
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

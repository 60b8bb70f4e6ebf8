package vault

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	testSecretsContract(t, m, NewID())
	if got := m.Snapshot(); len(got) != 0 {
		t.Errorf("after deleting everything, Snapshot = %v, want empty", got)
	}
}

func TestMemoryRejectsBadInput(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	tests := []struct {
		name  string
		call  func() error
		inErr string
	}{
		{"empty value", func() error { return m.Set("pr_abcdefghij", AccessToken, "") }, "empty"},
		{"unknown kind", func() error { return m.Set("pr_abcdefghij", "password", "x") }, "unknown secret kind"},
		{"slash in id get", func() error { _, err := m.Get("a/b", AccessToken); return err }, "'/'"},
		{"empty id delete", func() error { return m.Delete("", RefreshToken) }, "empty practice id"},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if errors.Is(err, ErrSecretNotFound) {
			t.Errorf("%s: err = %v, should not claim the secret is missing", tt.name, err)
		}
	}
	if got := m.Snapshot(); len(got) != 0 {
		t.Errorf("rejected calls stored something: %v", got)
	}
}

func TestMemorySnapshotIsACopy(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	if err := m.Set("pr_aaaaaaaaaa", AccessToken, "tok-a"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("pr_bbbbbbbbbb", RefreshToken, "tok-b"); err != nil {
		t.Fatal(err)
	}
	snap := m.Snapshot()
	want := map[string]string{
		"pr_aaaaaaaaaa/access_token":  "tok-a",
		"pr_bbbbbbbbbb/refresh_token": "tok-b",
	}
	if !maps.Equal(snap, want) {
		t.Fatalf("Snapshot = %v, want %v", snap, want)
	}
	snap["pr_aaaaaaaaaa/access_token"] = "changed"
	delete(snap, "pr_bbbbbbbbbb/refresh_token")
	if got, err := m.Get("pr_aaaaaaaaaa", AccessToken); err != nil || got != "tok-a" {
		t.Errorf("after changing the snapshot, Get = %q, %v; want tok-a", got, err)
	}
	if got, err := m.Get("pr_bbbbbbbbbb", RefreshToken); err != nil || got != "tok-b" {
		t.Errorf("after changing the snapshot, Get = %q, %v; want tok-b", got, err)
	}
}

// TestMemoryConcurrent is meant for -race: many goroutines share one Memory.
func TestMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		id := fmt.Sprintf("pr_worker%04d", w)
		wg.Go(func() {
			for r := range rounds {
				v := fmt.Sprintf("v%d", r)
				if err := m.Set(id, AccessToken, v); err != nil {
					t.Error(err)
					return
				}
				// Every worker also writes a shared entry, so writers contend on one key.
				if err := m.Set("pr_shared", RefreshToken, v); err != nil {
					t.Error(err)
					return
				}
				if got, err := m.Get(id, AccessToken); err != nil || got != v {
					t.Errorf("Get(%s) = %q, %v; want %q", id, got, err, v)
					return
				}
				_ = m.Snapshot()
			}
			if err := m.Delete(id, AccessToken); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	snap := m.Snapshot()
	if len(snap) != 1 {
		t.Fatalf("Snapshot = %v, want only the shared entry", snap)
	}
	if _, err := m.Get("pr_shared", RefreshToken); err != nil {
		t.Errorf("shared entry: %v", err)
	}
}

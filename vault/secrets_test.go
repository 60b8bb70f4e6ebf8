package vault

import (
	"errors"
	"strings"
	"testing"
)

// testSecretsContract checks the behaviour every Secrets implementation promises, using only the
// entries of practice id, so it can run against the real OS keychain too.
func testSecretsContract(t *testing.T, s Secrets, id string) {
	t.Helper()
	steps := []struct {
		name    string
		run     func() (string, error)
		want    string
		wantErr error
	}{
		{"get missing", func() (string, error) { return s.Get(id, AccessToken) }, "", ErrSecretNotFound},
		{"delete missing", func() (string, error) { return "", s.Delete(id, AccessToken) }, "", nil},
		{"set access", func() (string, error) { return "", s.Set(id, AccessToken, "access-1") }, "", nil},
		{"get access", func() (string, error) { return s.Get(id, AccessToken) }, "access-1", nil},
		{"refresh still missing", func() (string, error) { return s.Get(id, RefreshToken) }, "", ErrSecretNotFound},
		{"set refresh", func() (string, error) { return "", s.Set(id, RefreshToken, "refresh-1") }, "", nil},
		{"overwrite access", func() (string, error) { return "", s.Set(id, AccessToken, "access-2") }, "", nil},
		{"get overwritten", func() (string, error) { return s.Get(id, AccessToken) }, "access-2", nil},
		{"refresh untouched", func() (string, error) { return s.Get(id, RefreshToken) }, "refresh-1", nil},
		{"delete access", func() (string, error) { return "", s.Delete(id, AccessToken) }, "", nil},
		{"get deleted", func() (string, error) { return s.Get(id, AccessToken) }, "", ErrSecretNotFound},
		{"delete again", func() (string, error) { return "", s.Delete(id, AccessToken) }, "", nil},
		{"refresh survives", func() (string, error) { return s.Get(id, RefreshToken) }, "refresh-1", nil},
		{"delete refresh", func() (string, error) { return "", s.Delete(id, RefreshToken) }, "", nil},
		{"get deleted refresh", func() (string, error) { return s.Get(id, RefreshToken) }, "", ErrSecretNotFound},
	}
	// The steps build on each other, so they run in order, not as parallel subtests.
	for _, st := range steps {
		got, err := st.run()
		if st.wantErr != nil {
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Fatalf("%s: got %q, want %q", st.name, got, st.want)
		}
	}
}

func TestAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id      string
		kind    SecretKind
		want    string
		wantErr string
	}{
		{"pr_abcdefghij", AccessToken, "pr_abcdefghij/access_token", ""},
		{"pr_abcdefghij", RefreshToken, "pr_abcdefghij/refresh_token", ""},
		{"", AccessToken, "", "empty practice id"},
		{"pr_a/b", AccessToken, "", "contains '/'"},
		{"pr_abcdefghij", "id_token", "", "unknown secret kind"},
		{"pr_abcdefghij", "", "", "unknown secret kind"},
	}
	for _, tt := range tests {
		got, err := account(tt.id, tt.kind)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("account(%q, %q) err = %v, want it to mention %q", tt.id, tt.kind, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("account(%q, %q) = %q, %v; want %q", tt.id, tt.kind, got, err, tt.want)
		}
	}
}

package vault

import (
	"regexp"
	"testing"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^pr_[a-z2-7]{10}$`)
	seen := make(map[string]bool)
	for range 1000 {
		id := NewID()
		if !shape.MatchString(id) {
			t.Fatalf("NewID() = %q, want pr_ and 10 lowercase base32 characters", id)
		}
		if !ValidID(id) {
			t.Fatalf("ValidID(%q) = false for an id NewID made", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q within 1000 draws", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"pr_abcdefghij", true},
		{"pr_234567wxyz", true},
		{"", false},
		{"pr_", false},
		{"pr_abcdefghi", false},
		{"pr_abcdefghijk", false},
		{"pr_ABCDEFGHIJ", false},
		{"pr_abcdefgh10", false}, // 0 and 1 are not base32
		{"px_abcdefghij", false},
		{"PR_abcdefghij", false},
		{"pr_abcdefghi/", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

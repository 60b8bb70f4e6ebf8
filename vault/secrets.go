package vault

import (
	"errors"
	"fmt"
	"strings"
)

// Service is the keychain service name under which every secret is stored.
const Service = "healow-mcp"

// SecretKind names one of the secrets kept for a practice.
type SecretKind string

// The secrets kept for each practice.
const (
	AccessToken  SecretKind = "access_token"
	RefreshToken SecretKind = "refresh_token"
)

// ErrSecretNotFound is returned, possibly wrapped, by [Secrets.Get] when no secret of that kind
// is stored for the practice. Check it with errors.Is.
var ErrSecretNotFound = errors.New("secret not found")

// Secrets is where tokens live. Implementations are safe for concurrent use.
//
// Errors never contain the secret value, so callers may log them.
type Secrets interface {
	// Get returns the secret, or an error wrapping ErrSecretNotFound when none is stored.
	Get(practiceID string, kind SecretKind) (string, error)
	// Set stores the secret, replacing any previous value.
	Set(practiceID string, kind SecretKind, value string) error
	// Delete removes the secret. Deleting a missing item is not an error.
	Delete(practiceID string, kind SecretKind) error
}

// account is the keychain user name of a secret: "<practiceID>/<kind>". It rejects ids and
// kinds that would make two different secrets share one account, or a secret share an account
// with an unrelated item.
func account(practiceID string, kind SecretKind) (string, error) {
	if practiceID == "" {
		return "", errors.New("vault: empty practice id: pass the id of a connected practice (see vault.NewID)")
	}
	if strings.Contains(practiceID, "/") {
		return "", fmt.Errorf("vault: practice id %q contains '/', which would make its keychain entries ambiguous", practiceID)
	}
	switch kind {
	case AccessToken, RefreshToken:
	default:
		return "", fmt.Errorf("vault: unknown secret kind %q: want %q or %q", kind, AccessToken, RefreshToken)
	}
	return practiceID + "/" + string(kind), nil
}

// checkValue rejects an empty secret: storing one is always a bug upstream (a token response
// that was not parsed), and it would later read back as a token that cannot work.
func checkValue(kind SecretKind, value string) error {
	if value == "" {
		return fmt.Errorf("vault: refusing to store an empty %s: use Delete to remove a secret", kind)
	}
	return nil
}

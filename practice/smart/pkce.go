package smart

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// PKCE is a Proof Key for Code Exchange pair (RFC 7636, S256 only: eCW
// refuses plain, and plain would offer no protection anyway).
type PKCE struct {
	Verifier  string // sent only to the token endpoint; keep it secret
	Challenge string // sent in the authorize URL
}

// NewPKCE returns a fresh pair: a verifier of 32 random bytes in base64url
// (43 characters) and its S256 challenge.
func NewPKCE() (PKCE, error) { return newPKCE(rand.Reader) }

func newPKCE(r io.Reader) (PKCE, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return PKCE{}, fmt.Errorf("generating a PKCE verifier: the system random source failed: %w", err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	return PKCE{Verifier: v, Challenge: ChallengeS256(v)}, nil
}

// ChallengeS256 returns base64url(SHA-256(verifier)) without padding.
func ChallengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

package sandbox

import (
	"crypto/subtle"
	"net/url"
	"os"
	"slices"
)

// Client is the one OAuth client the sandbox has registered.
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string
}

// The defaults match what `healow connect` uses against the sandbox, so a
// user can point the real client at `healow sandbox` without configuring it.
const (
	defaultClientID     = "healow-sandbox-client"
	defaultClientSecret = "healow-sandbox-secret"
	defaultRedirectURI  = "http://127.0.0.1:8765/callback"
)

// DefaultClient returns the client the sandbox registers when none is given:
// ID "healow-sandbox-client", secret "healow-sandbox-secret" and the single
// redirect URI "http://127.0.0.1:8765/callback".
func DefaultClient() Client {
	return Client{
		ID:           defaultClientID,
		Secret:       defaultClientSecret,
		RedirectURIs: []string{defaultRedirectURI},
	}
}

// ClientFromEnv takes HEALOW_CLIENT_ID, HEALOW_CLIENT_SECRET and
// HEALOW_REDIRECT_URI when set, and the defaults of [DefaultClient] otherwise,
// so the sandbox and the real client read the same variables.
func ClientFromEnv() Client {
	c := DefaultClient()
	if v := os.Getenv("HEALOW_CLIENT_ID"); v != "" {
		c.ID = v
	}
	if v := os.Getenv("HEALOW_CLIENT_SECRET"); v != "" {
		c.Secret = v
	}
	if v := os.Getenv("HEALOW_REDIRECT_URI"); v != "" {
		c.RedirectURIs = []string{v}
	}
	return c
}

// withDefaults fills each empty field from DefaultClient, so a caller that
// only overrides the secret still gets a usable client.
func (c Client) withDefaults() Client {
	d := DefaultClient()
	if c.ID == "" {
		c.ID = d.ID
	}
	if c.Secret == "" {
		c.Secret = d.Secret
	}
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = d.RedirectURIs
	}
	return c
}

// registered reports whether uri is one of the client's redirect URIs. The
// match is exact, as OAuth requires: no prefix or normalised comparison.
func (c Client) registered(uri string) bool {
	return slices.Contains(c.RedirectURIs, uri)
}

// authenticates checks HTTP Basic credentials in constant time. RFC 6749
// §2.3.1 says both parts are form-encoded before Basic encoding; few clients
// do that, so both the raw and the decoded form are accepted.
func (c Client) authenticates(id, secret string) bool {
	return matchesEncoded(id, c.ID) && matchesEncoded(secret, c.Secret)
}

func matchesEncoded(got, want string) bool {
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	dec, err := url.QueryUnescape(got)
	return err == nil && subtle.ConstantTimeCompare([]byte(dec), []byte(want)) == 1
}

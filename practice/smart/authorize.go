package smart

import (
	"errors"
	"fmt"
	"strings"
)

// AuthRequest is what goes into the authorize URL.
type AuthRequest struct {
	ClientID      string
	RedirectURI   string
	State         string
	CodeChallenge string // PKCE.Challenge; the verifier never leaves this process
	Aud           string // the FHIR base URL the token will be used at
	Scopes        []string
}

// AuthorizeURL builds the authorization_endpoint URL for a standalone
// launch: response_type=code, client_id, redirect_uri, scope, state, aud,
// code_challenge and code_challenge_method=S256. Query parameters already
// on the endpoint are kept.
func AuthorizeURL(c *Config, r AuthRequest) (string, error) {
	if c == nil || c.AuthorizationEndpoint == "" {
		return "", errors.New("no authorization_endpoint is known for this practice: discover its smart-configuration first")
	}
	u, err := checkHTTPSURL(c.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("authorization_endpoint: %w", err)
	}
	for _, f := range []struct{ name, value string }{
		{"client id (HEALOW_CLIENT_ID)", r.ClientID},
		{"redirect URI", r.RedirectURI},
		{"state", r.State},
		{"PKCE code challenge", r.CodeChallenge},
		{"aud (the FHIR base URL)", r.Aud},
	} {
		if strings.TrimSpace(f.value) == "" {
			return "", fmt.Errorf("cannot build the authorize URL: the %s is empty", f.name)
		}
	}
	if len(r.Scopes) == 0 {
		return "", errors.New("cannot build the authorize URL: no scopes to request; the practice's smart-configuration offers none this client can use")
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", r.ClientID)
	q.Set("redirect_uri", r.RedirectURI)
	q.Set("scope", strings.Join(r.Scopes, " "))
	q.Set("state", r.State)
	q.Set("aud", r.Aud)
	q.Set("code_challenge", r.CodeChallenge)
	q.Set("code_challenge_method", "S256")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

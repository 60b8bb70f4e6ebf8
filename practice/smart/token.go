package smart

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice/egress"
)

// Client talks to the token endpoint. With a ClientSecret it is a confidential symmetric
// client: HTTP Basic with the client id and secret, each form-urlencoded first as RFC 6749
// §2.3.1 requires. Without one it is a public client (SMART's client-public, RFC 6749 §2.1): an
// app on the user's machine cannot keep a secret, so it sends its client_id in the body and
// relies on PKCE, and only to a practice whose smart-configuration lists client-public.
type Client struct {
	HTTP         *http.Client // carries TLS trust and timeouts; nil means http.DefaultClient
	ClientID     string
	ClientSecret string // "" makes a public client
	RedirectURI  string
	// Hosts decides where the client secret and the codes and tokens may go: the token endpoint
	// here, and (for the practice actor and the connector, which read it from this client) the
	// FHIR bases that receive access tokens. nil allows eClinicalWorks' own servers only.
	Hosts *egress.Policy

	// Now is the clock used to turn expires_in into Token.Expiry; nil
	// means time.Now.
	Now func() time.Time
}

// Exchange trades an authorization code and its PKCE verifier for tokens
// (grant_type=authorization_code).
func (c *Client) Exchange(ctx context.Context, cfg *Config, code, verifier string) (*Token, error) {
	switch {
	case code == "":
		return nil, errors.New("no authorization code to exchange: paste the address your browser shows after you approve access")
	case verifier == "":
		return nil, errors.New("no PKCE verifier for this authorization: start the connection again")
	case c.RedirectURI == "":
		return nil, errors.New("no redirect URI is configured: it must match the one registered for the app")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.RedirectURI},
		"code_verifier": {verifier},
	}
	return c.post(ctx, cfg, form, code, verifier)
}

// Refresh trades a refresh token for new tokens (grant_type=refresh_token).
// eCW rotates refresh tokens, so the caller must store the returned
// RefreshToken at once when it is not empty.
func (c *Client) Refresh(ctx context.Context, cfg *Config, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("no refresh token is stored for this practice: connect it again")
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	}
	return c.post(ctx, cfg, form, refreshToken)
}

// post sends form to the token endpoint. secrets are the sensitive values in
// form, redacted from anything the server echoes back.
func (c *Client) post(ctx context.Context, cfg *Config, form url.Values, secrets ...string) (*Token, error) {
	if cfg == nil || cfg.TokenEndpoint == "" {
		return nil, errors.New("no token_endpoint is known for this practice: discover its smart-configuration first")
	}
	// Checked again here, not only in ParseConfig, because a Config can be
	// built by hand and this request carries the client secret.
	if _, err := checkHTTPSURL(cfg.TokenEndpoint); err != nil {
		return nil, fmt.Errorf("token_endpoint: %w", err)
	}
	// Last, right before the secret leaves: whatever the configuration says, it goes only to an
	// authorization server the policy allows.
	if err := c.Hosts.CheckAuthServer(cfg.TokenEndpoint); err != nil {
		return nil, err
	}
	if err := c.CheckAuth(cfg); err != nil {
		return nil, err
	}
	if c.Public() {
		// RFC 6749 §3.2.1: a public client names itself in the body, and sends no Authorization.
		form.Set("client_id", c.ClientID)
	} else {
		// A server that echoes the Authorization header shows the secret base64-encoded.
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)))
		secrets = append(secrets, c.ClientSecret, basic)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !c.Public() {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}

	resp, err := noRedirects(c.HTTP).Do(req)
	if err != nil {
		// *url.Error quotes the URL and the transport's reason only; the
		// form body with the code or token is not part of it.
		return nil, fmt.Errorf("the token request to %s failed (%w): check your network connection and try again", cfg.TokenEndpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("the token endpoint %s answered with a redirect (HTTP %d), which is not followed: the client secret and the code or refresh token would go along; report it to the practice", cfg.TokenEndpoint, resp.StatusCode)
	}
	body, err := readBounded(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, tokenError(resp.StatusCode, body, secrets...)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return parseToken(body, now())
}

// Public reports whether the client has no secret, and so connects as a public client.
func (c *Client) Public() bool { return c.ClientSecret == "" }

// ErrSecretRequired is returned, wrapped, when the client has no secret and the practice does not
// accept public clients.
var ErrSecretRequired = errors.New("this practice accepts only apps with a client secret")

// CheckAuth reports whether the client can authenticate to the practice whose configuration is
// cfg: with a secret, through client_secret_basic when cfg lists its methods; without one only
// when cfg lists client-public (whatever methods it lists: eClinicalWorks lists client-public
// but no "none"). It is checked before the patient signs in, so that a sign-in that cannot
// finish is never started.
func (c *Client) CheckAuth(cfg *Config) error {
	if c.Public() && !cfg.Has("client-public") {
		return fmt.Errorf("%w (its smart-configuration does not list client-public): set HEALOW_CLIENT_SECRET to the app's client secret from its registration with eClinicalWorks, then connect again", ErrSecretRequired)
	}
	if methods := cfg.TokenEndpointAuthMethods; !c.Public() && methods != nil && !slices.Contains(methods, "client_secret_basic") {
		return fmt.Errorf("smart-configuration: token_endpoint_auth_methods_supported %s does not include client_secret_basic, the only method this client uses with a secret", quote.Quote(strings.Join(methods, " ")))
	}
	if c.ClientID == "" {
		return errors.New("the client id is empty: set HEALOW_CLIENT_ID to the app's client id")
	}
	return nil
}

// noRedirects returns a client like hc (nil: http.DefaultClient) that follows no redirect. A
// token request carries the client secret in its Authorization header and a code or refresh
// token in its body; Go would send the body along on a 307 or 308 to any host, and the header
// to the same host's other paths.
func noRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Disconnected says what Disconnect did.
type Disconnected struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Revoked is true when the practice confirmed it revoked the grant (RFC 7009).
	Revoked bool `json:"revoked"`
	// Revocation says in words what became of the grant at the practice.
	Revocation string `json:"revocation"`
}

// revokeTimeout bounds the best-effort revocation request.
const revokeTimeout = 10 * time.Second

// Disconnect forgets the practice named key (its name, case-insensitive, or its id): it asks the
// practice to revoke the refresh token when the practice's cached smart-configuration names a
// revocation endpoint (best effort; eClinicalWorks offers none today), then deletes its keychain
// items and its row. Servers drop its actor when they see the row gone (within a second) or at
// once when told (see OpDrop). oauth may be nil, which skips the revocation.
//
// It holds the practice's refresh lease throughout, so that no server spends the refresh token,
// and stores a new one that would outlive the practice, while it is being forgotten.
//
// It is the one implementation behind `healow disconnect` and the disconnect_practice tool.
func Disconnect(ctx context.Context, store *vault.Store, secrets vault.Secrets, oauth *smart.Client, key string) (Disconnected, error) {
	p, err := findStored(ctx, store, key)
	if err != nil {
		return Disconnected{}, err
	}
	d := Disconnected{ID: p.ID, Name: p.Name}
	release, _, err := store.AcquireRefreshLease(ctx, p.ID, fmt.Sprintf("disconnect pid %d", os.Getpid()), time.Minute)
	if err != nil {
		return d, fmt.Errorf("disconnecting %q: %w", p.Name, err)
	}
	defer release()
	refresh, err := secrets.Get(p.ID, vault.RefreshToken)
	if err != nil && !errors.Is(err, vault.ErrSecretNotFound) {
		return d, fmt.Errorf("disconnecting %q: reading its refresh token to revoke it: %w; nothing was removed", p.Name, err)
	}
	d.Revoked, d.Revocation = revoke(ctx, oauth, p, refresh)
	// The secrets go first: a row without secrets can be disconnected again, secrets without a
	// row could never be found again.
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		if err := secrets.Delete(p.ID, kind); err != nil {
			return d, fmt.Errorf("disconnecting %q: removing its %s from the keychain: %w; disconnect it again", p.Name, kind, err)
		}
	}
	if err := store.Delete(ctx, p.ID); err != nil && !errors.Is(err, vault.ErrNotFound) {
		return d, fmt.Errorf("disconnecting %q: its tokens are gone but its row is not: %w; disconnect it again", p.Name, err)
	}
	return d, nil
}

// Disconnect forgets a practice (see the function Disconnect) and stops its actor at once.
func (r *Registry) Disconnect(ctx context.Context, key string) (Disconnected, error) {
	if strings.TrimSpace(key) == "" {
		return Disconnected{}, errors.New("say which practice to disconnect, by name or id")
	}
	o := r.opts.Practice
	d, err := Disconnect(ctx, o.Store, o.Secrets, o.OAuth, key)
	if err != nil {
		return d, err
	}
	return d, r.Sync(ctx)
}

// findStored finds a stored practice by id or name, whether or not any actor serves it.
func findStored(ctx context.Context, store *vault.Store, key string) (vault.Practice, error) {
	key = strings.TrimSpace(key)
	p, err := store.Get(ctx, key)
	if errors.Is(err, vault.ErrNotFound) {
		p, err = store.GetByName(ctx, key)
	}
	if !errors.Is(err, vault.ErrNotFound) {
		return p, err
	}
	all, lerr := store.List(ctx)
	if lerr != nil {
		return p, errors.Join(err, lerr)
	}
	names := make([]string, len(all))
	for i, q := range all {
		names[i] = fmt.Sprintf("%q", q.Name)
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	return p, fmt.Errorf("%w %s: the connected practices are %s", ErrUnknownPractice, quote.Quote(key), strings.Join(names, ", "))
}

// revoke asks the practice to revoke the refresh token (RFC 7009, HTTP Basic client auth), and
// says what happened. The client secret goes only to an https revocation endpoint on the same
// origin as the token endpoint it already trusts with it.
func revoke(ctx context.Context, oauth *smart.Client, p vault.Practice, refresh string) (bool, string) {
	const after = "its grant ends when the refresh token expires, or revoke the app in the practice's patient portal"
	cfg, err := smart.ParseConfig(p.SMARTConfig)
	switch {
	case len(p.SMARTConfig) == 0 || err != nil:
		return false, "no SMART configuration is cached for the practice, so the grant was not revoked there; " + after
	case cfg.RevocationEndpoint == "":
		return false, "the practice offers no token revocation endpoint (eClinicalWorks has none today); " + after
	case refresh == "":
		return false, "no refresh token was stored, so there was nothing to revoke"
	case oauth == nil || oauth.ClientID == "" || oauth.ClientSecret == "":
		return false, "HEALOW_CLIENT_ID and HEALOW_CLIENT_SECRET are not set, so the grant was not revoked at the practice; " + after
	case !sameOrigin(cfg.RevocationEndpoint, cfg.TokenEndpoint):
		return false, fmt.Sprintf("the revocation endpoint %s is not on the token endpoint's server, so the client secret was not sent there; %s", cfg.RevocationEndpoint, after)
	}
	if err := oauth.Hosts.CheckAuthServer(cfg.RevocationEndpoint); err != nil {
		return false, fmt.Sprintf("the grant was not revoked at the practice: %v; %s", err, after)
	}
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	form := url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return false, fmt.Sprintf("the revocation request could not be built (%v); %s", err, after)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(oauth.ClientID), url.QueryEscape(oauth.ClientSecret))
	hc := http.DefaultClient
	if oauth.HTTP != nil {
		hc = oauth.HTTP
	}
	noRedirects := *hc // a redirect would resend the token elsewhere
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirects.Do(req)
	if err != nil {
		// *url.Error names the endpoint and the transport's reason; the form is not part of it.
		return false, fmt.Sprintf("the revocation request failed (%v); %s", err, after)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("the practice answered the revocation with HTTP %d; %s", resp.StatusCode, after)
	}
	return true, "the practice revoked the grant at " + cfg.RevocationEndpoint
}

func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == "https" && ua.Scheme == ub.Scheme && strings.EqualFold(ua.Host, ub.Host)
}

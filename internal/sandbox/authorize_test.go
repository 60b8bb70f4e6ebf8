package sandbox

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

func TestAuthorizeRedirectsErrors(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	correctSocial := "patient/Observation.rs?category=" + obsCategorySystem + "|social-history"
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string
	}{
		{"unknown scope", func(v url.Values) { v.Set("scope", "openid patient/Patient.rs patient/Spaceship.rs") }, "invalid_scope"},
		{"social-history spelt correctly", func(v url.Values) { v.Set("scope", correctSocial) }, "invalid_scope"},
		{"user-level scope", func(v url.Values) { v.Set("scope", "user/Patient.rs") }, "invalid_scope"},
		{"no scope", func(v url.Values) { v.Del("scope") }, "invalid_scope"},
		{"plain PKCE", func(v url.Values) { v.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no challenge", func(v url.Values) { v.Del("code_challenge") }, "invalid_request"},
		{"no state", func(v url.Values) { v.Del("state") }, "invalid_request"},
		{"aud of no practice", func(v url.Values) { v.Set("aud", s.URL()+"/fhir/r4/ZZZZZZ") }, "invalid_request"},
		{"aud missing", func(v url.Values) { v.Del("aud") }, "invalid_request"},
		{"implicit flow", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pk := newPKCE()
			var state string
			q := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, func(v url.Values) {
				tc.edit(v)
				state = v.Get("state")
			}))
			if q.Get("error") != tc.wantError || q.Get("code") != "" || q.Get("state") != state {
				t.Fatalf("redirect query = %v, want error=%s and state %q", q, tc.wantError, state)
			}
		})
	}
}

func TestAuthorizeAcceptsEveryAdvertisedScope(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 1)
	all, _ := supportedScopes()
	q := consent(t, s, authURL(s, p.BaseURL+"/", strings.Join(all, " "), newPKCE(), nil))
	if q.Get("code") == "" {
		t.Fatalf("every advertised scope (and a trailing slash on aud) refused: %v", q)
	}
}

// Until the client and redirect URI check out, errors must not be sent to
// the redirect URI.
func TestAuthorizeDoesNotRedirectToUnverifiedURIs(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	for name, edit := range map[string]func(url.Values){
		"unregistered redirect_uri": func(v url.Values) { v.Set("redirect_uri", "https://attacker.example/cb") },
		"redirect_uri prefix":       func(v url.Values) { v.Set("redirect_uri", DefaultClient().RedirectURIs[0]+"/more") },
		"unknown client":            func(v url.Values) { v.Set("client_id", "someone-else") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loc, err := s.Consent(context.Background(), authURL(s, p.BaseURL, testScopes, newPKCE(), edit))
			if err == nil || !strings.Contains(err.Error(), "400") {
				t.Fatalf("Consent = %q, %v; want a 400 error", loc, err)
			}
		})
	}
}

func TestCustomClient(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{Client: Client{Secret: "other-secret"}})
	p := practice0(t, s, 0)
	pk := newPKCE()
	q := consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil))
	c := DefaultClient()
	if status, _, _ := postToken(t, s, codeForm(q.Get("code"), pk), c.ID, c.Secret); status != 401 {
		t.Fatalf("default secret accepted by a server with another secret: %d", status)
	}
	q = consent(t, s, authURL(s, p.BaseURL, testScopes, pk, nil))
	status, body, _ := postToken(t, s, codeForm(q.Get("code"), pk), c.ID, "other-secret")
	decodeToken(t, status, body)
}

func TestClientFromEnv(t *testing.T) {
	t.Setenv("HEALOW_CLIENT_ID", "")
	t.Setenv("HEALOW_CLIENT_SECRET", "")
	t.Setenv("HEALOW_REDIRECT_URI", "")
	if c := ClientFromEnv(); c.ID != DefaultClient().ID || c.Secret != DefaultClient().Secret ||
		len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "http://127.0.0.1:8765/callback" {
		t.Fatalf("defaults = %+v", c)
	}
	t.Setenv("HEALOW_CLIENT_ID", "id-from-env")
	t.Setenv("HEALOW_CLIENT_SECRET", "secret-from-env")
	t.Setenv("HEALOW_REDIRECT_URI", "https://app.example/cb")
	if c := ClientFromEnv(); c.ID != "id-from-env" || c.Secret != "secret-from-env" ||
		len(c.RedirectURIs) != 1 || c.RedirectURIs[0] != "https://app.example/cb" {
		t.Fatalf("from env = %+v", c)
	}
}

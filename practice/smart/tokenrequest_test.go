package smart

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestTokenRequestPreconditions(t *testing.T) {
	t.Parallel()
	srv, cfg, hits := ecwTokenServer(t, exchangeForm, 200, "", "")
	ctx := context.Background()
	plainCfg := &Config{TokenEndpoint: "http" + strings.TrimPrefix(cfg.TokenEndpoint, "https")}
	noSecret := testClient(srv, newFakeClock())
	noSecret.ClientSecret = ""
	noRedirect := testClient(srv, newFakeClock())
	noRedirect.RedirectURI = ""
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"http token endpoint", func() error {
			_, err := testClient(srv, newFakeClock()).Exchange(ctx, plainCfg, testCode, testVerifier)
			return err
		}, "clear text"},
		{"nil config", func() error {
			_, err := testClient(srv, newFakeClock()).Refresh(ctx, nil, testRefresh)
			return err
		}, "discover"},
		{"no secret", func() error { _, err := noSecret.Exchange(ctx, cfg, testCode, testVerifier); return err }, "HEALOW_CLIENT_SECRET"},
		{"no redirect", func() error { _, err := noRedirect.Exchange(ctx, cfg, testCode, testVerifier); return err }, "redirect URI"},
		{"no code", func() error {
			_, err := testClient(srv, newFakeClock()).Exchange(ctx, cfg, "", testVerifier)
			return err
		}, "no authorization code"},
		{"no verifier", func() error {
			_, err := testClient(srv, newFakeClock()).Exchange(ctx, cfg, testCode, "")
			return err
		}, "PKCE verifier"},
		{"no refresh token", func() error {
			_, err := testClient(srv, newFakeClock()).Refresh(ctx, cfg, "")
			return err
		}, "connect it again"},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		} else {
			assertNoSecrets(t, err.Error(), allSecrets...)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("token endpoint contacted %d times by refused requests", n)
	}
}

func TestTokenNetworkFailure(t *testing.T) {
	t.Parallel()
	srv, cfg, _ := ecwTokenServer(t, exchangeForm, 200, "", "")
	c := testClient(srv, newFakeClock())
	srv.Close()
	_, err := c.Exchange(context.Background(), cfg, testCode, testVerifier)
	if err == nil || !strings.Contains(err.Error(), "network") {
		t.Fatalf("err = %v, want a network failure", err)
	}
	assertNoSecrets(t, err.Error(), allSecrets...)
}

func TestTokenUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv, cfg, hits := ecwTokenServer(t, exchangeForm, 200, "", "")
	c := testClient(srv, newFakeClock())
	c.HTTP = &http.Client{} // system roots do not trust the test server
	if _, err := c.Exchange(context.Background(), cfg, testCode, testVerifier); err == nil {
		t.Fatal("Exchange succeeded against an untrusted certificate")
	}
	if hits.Load() != 0 {
		t.Error("the secret reached a server whose certificate is not trusted")
	}
}

package smart

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseConfigECW(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(raw)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if c.Issuer != "https://fhir4.healow.com/fhir/r4/FEIGCD" ||
		c.AuthorizationEndpoint != "https://oauthserver.eclinicalworks.com/oauth/oauth2/authorize" ||
		c.TokenEndpoint != "https://oauthserver.eclinicalworks.com/oauth/oauth2/token" ||
		c.JWKSURI != "https://oauthserver.eclinicalworks.com/oauth/oauth2/jwks" ||
		c.RevocationEndpoint != "" {
		t.Errorf("endpoints not parsed: %+v", c)
	}
	if len(c.ScopesSupported) < 150 {
		t.Errorf("ScopesSupported has %d entries, want the whole list", len(c.ScopesSupported))
	}
	if !slices.Equal(c.CodeChallengeMethods, []string{"S256"}) ||
		!slices.Contains(c.TokenEndpointAuthMethods, "client_secret_basic") ||
		!slices.Contains(c.GrantTypes, "refresh_token") {
		t.Errorf("lists not parsed: %+v", c)
	}
	if !c.Has("context-standalone-patient") || c.Has("no-such-capability") || !c.SupportsV2() {
		t.Error("Has/SupportsV2 disagree with the capabilities list")
	}
	if string(c.Raw) != string(raw) {
		t.Error("Raw is not the document as given")
	}
	var nilCfg *Config
	if nilCfg.Has("permission-v2") || nilCfg.SupportsV2() {
		t.Error("a nil Config must have no capabilities")
	}
}

func TestParseConfigRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   []string // substrings of the error
	}{
		{"http authorization endpoint", func(m map[string]any) {
			m["authorization_endpoint"] = "http://oauthserver.eclinicalworks.com/oauth/oauth2/authorize"
		}, []string{"authorization_endpoint", "http://", "clear text"}},
		{"http token endpoint", func(m map[string]any) {
			m["token_endpoint"] = "http://oauthserver.eclinicalworks.com/oauth/oauth2/token"
		}, []string{"token_endpoint", "clear text"}},
		{"missing token endpoint", func(m map[string]any) { delete(m, "token_endpoint") },
			[]string{"token_endpoint", "missing"}},
		{"missing authorization endpoint", func(m map[string]any) { delete(m, "authorization_endpoint") },
			[]string{"authorization_endpoint", "missing"}},
		{"relative token endpoint", func(m map[string]any) { m["token_endpoint"] = "/oauth/token" },
			[]string{"token_endpoint", "absolute https"}},
		{"userinfo in token endpoint", func(m map[string]any) {
			m["token_endpoint"] = "https://admin:hunter2@oauthserver.eclinicalworks.com/token"
		}, []string{"token_endpoint", "user name or password"}},
		{"http revocation endpoint", func(m map[string]any) { m["revocation_endpoint"] = "http://x.example/revoke" },
			[]string{"revocation_endpoint", "clear text"}},
		{"plain only", func(m map[string]any) { m["code_challenge_methods_supported"] = []string{"plain"} },
			[]string{"code_challenge_methods_supported", "S256"}},
		{"no PKCE methods", func(m map[string]any) { delete(m, "code_challenge_methods_supported") },
			[]string{"code_challenge_methods_supported", "S256"}},
		{"token endpoint a number", func(m map[string]any) { m["token_endpoint"] = 5 },
			[]string{"token_endpoint is a JSON number where a string belongs", "FHIR base URL"}},
		{"capabilities a string", func(m map[string]any) { m["capabilities"] = "launch-standalone" },
			[]string{"capabilities is a JSON string where a list belongs"}},
		{"scopes of numbers", func(m map[string]any) { m["scopes_supported"] = []int{1} },
			[]string{"scopes_supported is a JSON number where a string belongs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := fixtureMap(t)
			tt.mutate(m)
			_, err := ParseConfig(marshal(t, m))
			if err == nil {
				t.Fatal("ParseConfig accepted an invalid document")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			assertNoSecrets(t, err.Error(), "hunter2")
			if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "json:") || strings.Contains(err.Error(), "wireConfig") {
				t.Errorf("error %q speaks of Go's types", err)
			}
		})
	}
	// A document that is not an object at all.
	if _, err := ParseConfig([]byte(`[1]`)); err == nil || strings.Contains(err.Error(), "Go ") || !strings.Contains(err.Error(), "not a SMART configuration") {
		t.Errorf("a list for a document: %v", err)
	}
}

func TestParseConfigAccepts(t *testing.T) {
	t.Parallel()
	// The auth-methods rule applies only when the list is published.
	c := ecwConfig(t, func(m map[string]any) { delete(m, "token_endpoint_auth_methods_supported") })
	if c.TokenEndpointAuthMethods != nil {
		t.Errorf("TokenEndpointAuthMethods = %q, want nil", c.TokenEndpointAuthMethods)
	}
	if _, err := ParseConfig([]byte("<html>not json</html>")); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("non-JSON document: err = %v", err)
	}
}

// A client with a secret needs client_secret_basic among the methods a practice lists; a public
// client needs only client-public, whatever methods are listed (eClinicalWorks lists no "none").
func TestCheckAuthFollowsTheClientsKind(t *testing.T) {
	t.Parallel()
	m := fixtureMap(t)
	m["token_endpoint_auth_methods_supported"] = []string{"private_key_jwt"}
	m["capabilities"] = []string{"launch-standalone", "client-public", "client-confidential-symmetric"}
	cfg, err := ParseConfig(marshal(t, m))
	if err != nil {
		t.Fatalf("ParseConfig refused a document only a confidential client cannot use: %v", err)
	}
	confidential := &Client{ClientID: "app", ClientSecret: "hunter2"}
	if err := confidential.CheckAuth(cfg); err == nil || !strings.Contains(err.Error(), "client_secret_basic") {
		t.Fatalf("a client with a secret was let through without client_secret_basic: %v", err)
	} else {
		assertNoSecrets(t, err.Error(), "hunter2")
	}
	if err := (&Client{ClientID: "app"}).CheckAuth(cfg); err != nil {
		t.Fatalf("a public client was refused by a practice that lists client-public: %v", err)
	}
	m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic"}
	if cfg, _ = ParseConfig(marshal(t, m)); confidential.CheckAuth(cfg) != nil {
		t.Fatal("a client with a secret was refused by a practice that lists client_secret_basic")
	}
}

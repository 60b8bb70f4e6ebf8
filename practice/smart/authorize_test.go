package smart

import (
	"net/url"
	"strings"
	"testing"
)

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	c := &Config{AuthorizationEndpoint: "https://oauthserver.eclinicalworks.com/oauth/oauth2/authorize?tenant=healow"}
	r := AuthRequest{
		ClientID:      "client id&x",
		RedirectURI:   "https://example.org/callback",
		State:         "state123",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Aud:           "https://fhir4.healow.com/fhir/r4/FEIGCD",
		Scopes:        []string{"openid", "patient/Patient.rs", typoSocialHistory},
	}
	got, err := AuthorizeURL(c, r)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "oauthserver.eclinicalworks.com" || u.Path != "/oauth/oauth2/authorize" {
		t.Errorf("endpoint changed: %s", got)
	}
	q := u.Query()
	want := map[string]string{
		"tenant":                "healow",
		"response_type":         "code",
		"client_id":             r.ClientID,
		"redirect_uri":          r.RedirectURI,
		"scope":                 "openid patient/Patient.rs " + typoSocialHistory,
		"state":                 r.State,
		"aud":                   r.Aud,
		"code_challenge":        r.CodeChallenge,
		"code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("unexpected parameters: %v", q)
	}
}

func TestAuthorizeURLRejects(t *testing.T) {
	t.Parallel()
	good := AuthRequest{ClientID: "c", RedirectURI: "https://e/cb", State: "s", CodeChallenge: "x", Aud: "https://f", Scopes: []string{"openid"}}
	cfg := &Config{AuthorizationEndpoint: "https://oauthserver.eclinicalworks.com/oauth/oauth2/authorize"}
	tests := []struct {
		name string
		cfg  *Config
		req  func(AuthRequest) AuthRequest
		want string
	}{
		{"nil config", nil, func(r AuthRequest) AuthRequest { return r }, "discover"},
		{"http endpoint", &Config{AuthorizationEndpoint: "http://x/authorize"}, func(r AuthRequest) AuthRequest { return r }, "clear text"},
		{"no client id", cfg, func(r AuthRequest) AuthRequest { r.ClientID = ""; return r }, "HEALOW_CLIENT_ID"},
		{"no state", cfg, func(r AuthRequest) AuthRequest { r.State = " "; return r }, "state"},
		{"no challenge", cfg, func(r AuthRequest) AuthRequest { r.CodeChallenge = ""; return r }, "challenge"},
		{"no aud", cfg, func(r AuthRequest) AuthRequest { r.Aud = ""; return r }, "aud"},
		{"no redirect", cfg, func(r AuthRequest) AuthRequest { r.RedirectURI = ""; return r }, "redirect"},
		{"no scopes", cfg, func(r AuthRequest) AuthRequest { r.Scopes = nil; return r }, "scopes"},
	}
	for _, tt := range tests {
		_, err := AuthorizeURL(tt.cfg, tt.req(good))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

func TestFullFlow(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	c := DefaultClient()

	// Discovery from the practice base.
	resp, err := s.HTTPClient().Get(p.BaseURL + "/.well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	json.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if cfg["issuer"] != p.BaseURL {
		t.Errorf("issuer = %v, want %s", cfg["issuer"], p.BaseURL)
	}
	authEP, _ := cfg["authorization_endpoint"].(string)
	tokenEP, _ := cfg["token_endpoint"].(string)
	if authEP != s.URL()+"/oauth/oauth2/authorize" || tokenEP != s.URL()+"/oauth/oauth2/token" {
		t.Errorf("endpoints = %s, %s", authEP, tokenEP)
	}

	// Authorize URL by hand, with a PKCE pair.
	pk := newPKCE()
	v := url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURIs[0]},
		"scope": {testScopes}, "state": {"xyz-state"}, "aud": {p.BaseURL},
		"code_challenge": {pk.challenge}, "code_challenge_method": {"S256"},
	}
	q := consent(t, s, authEP+"?"+v.Encode())
	if q.Get("state") != "xyz-state" || q.Get("code") == "" {
		t.Fatalf("redirect query = %v", q)
	}

	status, body, hdr := postToken(t, s, codeForm(q.Get("code"), pk), c.ID, c.Secret)
	tok := decodeToken(t, status, body)
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("token response Cache-Control = %q", hdr.Get("Cache-Control"))
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.Scope != testScopes ||
		tok.Patient != p.PatientID || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("token response = %+v", tok)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(tok.AccessToken); len(raw) != 32 {
		t.Errorf("access token is not 32 bytes of base64url")
	}
	cl := claims(t, tok.IDToken)
	if cl["fhirUser"] != p.BaseURL+"/Patient/"+p.PatientID || cl["aud"] != c.ID || cl["iss"] != p.BaseURL {
		t.Errorf("id_token claims = %v", cl)
	}
	verifyIDToken(t, s, tok.IDToken)

	// Read the patient.
	status, body, hdr = fhirGet(t, s, p.BaseURL+"/Patient/"+p.PatientID, tok.AccessToken, "")
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/fhir+json") {
		t.Fatalf("Patient read: %d %s %s", status, hdr.Get("Content-Type"), body)
	}
	var pt struct{ ResourceType, ID string }
	json.Unmarshal(body, &pt)
	if pt.ResourceType != "Patient" || pt.ID != p.PatientID {
		t.Fatalf("Patient read returned %+v", pt)
	}

	// Labs across pages.
	total, pages, res := searchAll(t, s, p.BaseURL+"/Observation?category=laboratory", tok.AccessToken)
	if pages < 2 || len(res) != total || total < 25 {
		t.Fatalf("labs: total %d, pages %d, entries %d", total, pages, len(res))
	}
	seen := map[string]bool{}
	for _, r := range res {
		var o struct {
			ID       string
			Category []struct {
				Coding []struct{ System, Code string }
			}
		}
		json.Unmarshal(r, &o)
		if seen[o.ID] {
			t.Errorf("Observation %s on two pages", o.ID)
		}
		seen[o.ID] = true
		if o.Category[0].Coding[0].Code != "laboratory" || o.Category[0].Coding[0].System != obsCategorySystem {
			t.Errorf("Observation %s category = %+v", o.ID, o.Category)
		}
	}

	st := s.Stats()
	if st.AuthCodeGrants != 1 || st.FHIRRequests != 1+pages || st.Unauthorized != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// verifyIDToken checks the ES256 signature against the published JWKS.
func verifyIDToken(t *testing.T, s *Server, jwt string) {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.URL() + "/oauth/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ X, Y, Kid string } }
	json.NewDecoder(resp.Body).Decode(&set)
	if len(set.Keys) != 1 {
		t.Fatalf("jwks has %d keys", len(set.Keys))
	}
	dec := base64.RawURLEncoding
	x, _ := dec.DecodeString(set.Keys[0].X)
	y, _ := dec.DecodeString(set.Keys[0].Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(jwt, '.')
	sig, _ := dec.DecodeString(jwt[i+1:])
	sum := sha256.Sum256([]byte(jwt[:i]))
	r, ss := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, sum[:], r, ss) {
		t.Fatal("id_token signature does not verify against the JWKS")
	}
}

func TestRefreshRotatesAndRejectsReuse(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	first := connect(t, s, p, testScopes)

	status, second := refreshWith(t, s, first.RefreshToken)
	if status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken ||
		second.AccessToken == first.AccessToken || second.Patient != p.PatientID {
		t.Fatalf("refresh: %d %+v", status, second)
	}
	if st, _, _ := fhirGet(t, s, p.BaseURL+"/Patient/"+p.PatientID, second.AccessToken, ""); st != http.StatusOK {
		t.Fatalf("refreshed access token answered %d", st)
	}

	status, reused := refreshWith(t, s, first.RefreshToken)
	if status != http.StatusBadRequest || reused.Error != "invalid_grant" {
		t.Fatalf("reuse: %d %+v", status, reused)
	}
	// The rotated token still works: reuse of an old one does not kill it.
	if status, third := refreshWith(t, s, second.RefreshToken); status != http.StatusOK || third.RefreshToken == "" {
		t.Fatalf("refresh with rotated token: %d %+v", status, third)
	}
	if st := s.Stats(); st.RefreshGrants != 3 || st.RefreshReuse != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	tok := connect(t, s, practice0(t, s, 0), "launch/patient patient/Patient.rs")
	if tok.RefreshToken != "" || tok.IDToken != "" {
		t.Fatalf("got refresh or id token without offline_access/openid: %+v", tok)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	c := DefaultClient()
	tests := []struct {
		name       string
		edit       func(form url.Values, id, secret *string, clk *actor.Fake)
		twice      bool // exchange once successfully first
		wantStatus int
		wantError  string
	}{
		{"wrong secret", func(_ url.Values, _, secret *string, _ *actor.Fake) { *secret = "nope" }, false, 401, "invalid_client"},
		{"secret in body instead of Basic", func(f url.Values, id, secret *string, _ *actor.Fake) {
			f.Set("client_id", *id)
			f.Set("client_secret", *secret)
			*id = ""
		}, false, 401, "invalid_client"},
		{"wrong verifier", func(f url.Values, _, _ *string, _ *actor.Fake) { f.Set("code_verifier", newPKCE().verifier) }, false, 400, "invalid_grant"},
		{"missing verifier", func(f url.Values, _, _ *string, _ *actor.Fake) { f.Del("code_verifier") }, false, 400, "invalid_grant"},
		{"other redirect_uri", func(f url.Values, _, _ *string, _ *actor.Fake) { f.Set("redirect_uri", "http://127.0.0.1:9/cb") }, false, 400, "invalid_grant"},
		{"unknown code", func(f url.Values, _, _ *string, _ *actor.Fake) { f.Set("code", "forged") }, false, 400, "invalid_grant"},
		{"expired code", func(_ url.Values, _, _ *string, clk *actor.Fake) { clk.Advance(61 * time.Second) }, false, 400, "invalid_grant"},
		{"code used twice", nil, true, 400, "invalid_grant"},
		{"unsupported grant", func(f url.Values, _, _ *string, _ *actor.Fake) { f.Set("grant_type", "client_credentials") }, false, 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			s := startSandbox(t, Options{Now: clk.Now})
			pk := newPKCE()
			q := consent(t, s, authURL(s, practice0(t, s, 0).BaseURL, testScopes, pk, nil))
			form, id, secret := codeForm(q.Get("code"), pk), c.ID, c.Secret
			if tc.twice {
				st, b, _ := postToken(t, s, form, id, secret)
				decodeToken(t, st, b)
			}
			if tc.edit != nil {
				tc.edit(form, &id, &secret, clk)
			}
			status, body, hdr := postToken(t, s, form, id, secret)
			var e struct{ Error string }
			json.Unmarshal(body, &e)
			if status != tc.wantStatus || e.Error != tc.wantError {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.wantStatus, tc.wantError)
			}
			if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("401 without a Basic challenge")
			}
		})
	}
}

func TestTokenOfOnePracticeIsRefusedByAnother(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	a, b := practice0(t, s, 0), practice0(t, s, 1)
	tok := connect(t, s, a, testScopes)
	status, body, hdr := fhirGet(t, s, b.BaseURL+"/Patient/"+b.PatientID, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusUnauthorized, "")
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge")
	}
	if st := s.Stats(); st.Unauthorized != 1 {
		t.Errorf("Unauthorized = %d", st.Unauthorized)
	}
}

func TestExpiredAccessToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := startSandbox(t, Options{Now: clk.Now, AccessTokenTTL: 10 * time.Minute})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	if tok.ExpiresIn != 600 {
		t.Errorf("expires_in = %d", tok.ExpiresIn)
	}
	u := p.BaseURL + "/Patient/" + p.PatientID
	if status, _, _ := fhirGet(t, s, u, tok.AccessToken, ""); status != http.StatusOK {
		t.Fatalf("fresh token answered %d", status)
	}
	clk.Advance(10 * time.Minute)
	status, body, _ := fhirGet(t, s, u, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusUnauthorized, "")
	if status, _, _ := fhirGet(t, s, u, "", ""); status != http.StatusUnauthorized {
		t.Errorf("no token answered %d", status)
	}
	if st := s.Stats(); st.Unauthorized != 2 {
		t.Errorf("Unauthorized = %d", st.Unauthorized)
	}
	// The refresh token outlives the access token.
	if status, _ := refreshWith(t, s, tok.RefreshToken); status != http.StatusOK {
		t.Errorf("refresh after access expiry answered %d", status)
	}
}

func TestRefreshDownScope(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	tok := connect(t, s, practice0(t, s, 0), testScopes)
	c := DefaultClient()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"patient/Patient.rs"}}
	st, b, _ := postToken(t, s, form, c.ID, c.Secret)
	got := decodeToken(t, st, b)
	if got.Scope != "patient/Patient.rs" || got.RefreshToken == "" {
		t.Fatalf("down-scoped refresh = %+v", got)
	}
	form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {got.RefreshToken}, "scope": {"patient/Goal.rs"}}
	status, body, _ := postToken(t, s, form, c.ID, c.Secret)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "invalid_scope") {
		t.Fatalf("widening refresh: %d %s", status, body)
	}
	if !slices.Contains(strings.Fields(testScopes), "offline_access") {
		t.Fatal("test scopes lost offline_access")
	}
}

package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// The scopes a typical client asks for: identity, offline access and the
// resources the tests read.
const testScopes = "openid fhirUser offline_access launch/patient patient/Patient.rs patient/Observation.rs patient/DocumentReference.rs patient/Binary.r"

// newClock is an Options.Now the test moves by hand.
func newClock() *actor.Fake { return actor.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) }

func startSandbox(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func practice0(t *testing.T, s *Server, i int) Practice {
	t.Helper()
	ps := s.Practices()
	if len(ps) <= i {
		t.Fatalf("want at least %d practices, have %d", i+1, len(ps))
	}
	return ps[i]
}

type pkce struct{ verifier, challenge string }

func newPKCE() pkce {
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authURL builds an authorize URL by hand, as a client would; edit may
// change any parameter.
func authURL(s *Server, base, scope string, pk pkce, edit func(url.Values)) string {
	c := DefaultClient()
	v := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ID},
		"redirect_uri":          {c.RedirectURIs[0]},
		"scope":                 {scope},
		"state":                 {"state-" + pk.challenge[:8]},
		"aud":                   {base},
		"code_challenge":        {pk.challenge},
		"code_challenge_method": {"S256"},
	}
	if edit != nil {
		edit(v)
	}
	return s.URL() + "/oauth/oauth2/authorize?" + v.Encode()
}

// consent runs Consent and parses the redirect it returns.
func consent(t *testing.T, s *Server, authorizeURL string) url.Values {
	t.Helper()
	loc, err := s.Consent(context.Background(), authorizeURL)
	if err != nil {
		t.Fatalf("Consent: %v", err)
	}
	if !strings.HasPrefix(loc, DefaultClient().RedirectURIs[0]+"?") {
		t.Fatalf("redirect %q is not to the registered redirect URI", loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

type tokenReply struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
	Patient      string `json:"patient"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
}

// postToken calls the token endpoint; an empty id sends no Basic header.
func postToken(t *testing.T, s *Server, form url.Values, id, secret string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/oauth/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}

func codeForm(code string, pk pkce) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {DefaultClient().RedirectURIs[0]},
		"code_verifier": {pk.verifier},
	}
}

func decodeToken(t *testing.T, status int, body []byte) tokenReply {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("token endpoint answered %d: %s", status, body)
	}
	var tr tokenReply
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("decode token response: %v", err)
	}
	return tr
}

// connect runs the whole authorization-code flow for one practice.
func connect(t *testing.T, s *Server, p Practice, scope string) tokenReply {
	t.Helper()
	pk := newPKCE()
	q := consent(t, s, authURL(s, p.BaseURL, scope, pk, nil))
	c := DefaultClient()
	status, body, _ := postToken(t, s, codeForm(q.Get("code"), pk), c.ID, c.Secret)
	return decodeToken(t, status, body)
}

func refreshWith(t *testing.T, s *Server, rt string) (int, tokenReply) {
	t.Helper()
	c := DefaultClient()
	status, body, _ := postToken(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, c.Secret)
	var tr tokenReply
	json.Unmarshal(body, &tr)
	return status, tr
}

// fhirGet fetches a FHIR URL with a bearer token and an optional Accept.
func fhirGet(t *testing.T, s *Server, u, token, accept string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}

type testBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        int    `json:"total"`
	Link         []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct{ Mode string }
	} `json:"entry"`
}

func (b testBundle) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func searchJSON(t *testing.T, s *Server, u, token string) testBundle {
	t.Helper()
	status, body, _ := fhirGet(t, s, u, token, "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, status, body)
	}
	var b testBundle
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// searchAll follows next links and returns every entry's resource.
func searchAll(t *testing.T, s *Server, u, token string) (total, pages int, resources []json.RawMessage) {
	t.Helper()
	for u != "" {
		b := searchJSON(t, s, u, token)
		total = b.Total
		pages++
		for _, e := range b.Entry {
			resources = append(resources, e.Resource)
		}
		u = b.link("next")
		if pages > 100 {
			t.Fatal("next links never end")
		}
	}
	return total, pages, resources
}

type outcome struct {
	ResourceType string
	Issue        []struct{ Severity, Code, Diagnostics string }
}

func wantOutcome(t *testing.T, status int, body []byte, wantStatus int, wantDiag string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	var oo outcome
	if err := json.Unmarshal(body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome: %s", body)
	}
	if wantDiag != "" && !strings.Contains(oo.Issue[0].Diagnostics, wantDiag) {
		t.Fatalf("diagnostics %q, want %q", oo.Issue[0].Diagnostics, wantDiag)
	}
}

// claims decodes a JWT's payload without verifying it, as eCW clients do.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

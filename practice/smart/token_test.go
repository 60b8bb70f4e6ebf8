package smart

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// Values a fake eCW must never see echoed into an error message. The id and
// secret contain characters that RFC 6749 §2.3.1 requires to be encoded.
const (
	testClientID     = "healow app/1"
	testClientSecret = "s3cr:t+Pa ss&word"
	testCode         = "AUTHCODE-9f8e7d6c"
	testVerifier     = "VERIFIER-dBjftJeZ4CVPmB92K27uhbUJU1p1r"
	testAccess       = "ACCESS-eyJhbGciOiJSUzI1NiJ9"
	testRefresh      = "REFRESH-0a1b2c3d4e"
	testRedirect     = "https://example.org/healow/callback"
)

var allSecrets = []string{testClientSecret, url.QueryEscape(testClientSecret), testCode, testVerifier, testAccess, testRefresh}

// idToken builds an unsigned JWT-shaped id_token carrying claims.
func idToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(marshal(t, claims)) + ".c2lnbmF0dXJl"
}

// ecwTokenServer is a stand-in for eCW's token endpoint: it checks the
// client authentication and the form, then answers with status and body.
func ecwTokenServer(t *testing.T, wantForm url.Values, status int, contentType, body string) (*httptest.Server, *Config, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/oauth2/token" {
			t.Errorf("request %s %s, want POST /oauth/oauth2/token", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		if a := r.Header.Get("Accept"); a != "application/json" {
			t.Errorf("Accept = %q", a)
		}
		user, pass, ok := r.BasicAuth()
		if !ok || user != url.QueryEscape(testClientID) || pass != url.QueryEscape(testClientSecret) {
			t.Errorf("HTTP Basic = %q, %q, %v; want the form-encoded id and secret", user, pass, ok)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if len(r.PostForm) != len(wantForm) {
			t.Errorf("form = %v, want %v", r.PostForm, wantForm)
		}
		for k := range wantForm {
			if r.PostForm.Get(k) != wantForm.Get(k) {
				t.Errorf("form %s = %q, want %q", k, r.PostForm.Get(k), wantForm.Get(k))
			}
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &Config{TokenEndpoint: srv.URL + "/oauth/oauth2/token"}, &hits
}

func testClient(srv *httptest.Server, clock *actor.Fake) *Client {
	return &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Now: clock.Now, Hosts: localHosts}
}

var exchangeForm = url.Values{
	"grant_type":    {"authorization_code"},
	"code":          {testCode},
	"redirect_uri":  {testRedirect},
	"code_verifier": {testVerifier},
}

func TestExchange(t *testing.T) {
	t.Parallel()
	const jsonCT = "application/json"
	tokenBody := func(extra map[string]any) string {
		m := map[string]any{
			"access_token": testAccess, "token_type": "Bearer", "expires_in": 3600,
			"scope": "openid fhirUser offline_access launch/patient patient/Patient.rs", "refresh_token": testRefresh,
		}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return string(marshal(t, m))
	}
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		patient     string        // wanted PatientID on success
		expiresIn   time.Duration // wanted Expiry - now; 0 means zero Expiry
		wantErr     error         // sentinel
		wantMsg     string        // part of the error message
	}{
		{name: "patient present", status: 200, contentType: jsonCT,
			body:    tokenBody(map[string]any{"patient": "a1B2-c3.d4", "token_type": "bearer"}),
			patient: "a1B2-c3.d4", expiresIn: time.Hour},
		{name: "patient from id_token fhirUser", status: 200, contentType: jsonCT,
			body:    tokenBody(map[string]any{"id_token": idToken(t, map[string]any{"sub": "u1", "fhirUser": "Patient/Xy-9.8_7"})}),
			patient: "Xy-9.8_7", expiresIn: time.Hour},
		{name: "patient from absolute fhirUser", status: 200, contentType: jsonCT,
			body:    tokenBody(map[string]any{"id_token": idToken(t, map[string]any{"fhirUser": "https://fhir4.healow.com/fhir/r4/FEIGCD/Patient/p-77"})}),
			patient: "p-77", expiresIn: time.Hour},
		{name: "practitioner fhirUser", status: 200, contentType: jsonCT,
			body:      tokenBody(map[string]any{"id_token": idToken(t, map[string]any{"fhirUser": "Practitioner/9"})}),
			expiresIn: time.Hour},
		{name: "garbage id_token", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"id_token": "not-a-jwt"}), expiresIn: time.Hour},
		{name: "expires_in as string", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"patient": "p1", "expires_in": "1800"}), patient: "p1", expiresIn: 30 * time.Minute},
		{name: "no expires_in", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"patient": "p1", "expires_in": nil}), patient: "p1"},
		{name: "missing access_token", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"access_token": nil}), wantMsg: "without an access_token"},
		{name: "not bearer", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"token_type": "MAC"}), wantMsg: "only Bearer"},
		{name: "unusable patient id", status: 200, contentType: jsonCT,
			body: tokenBody(map[string]any{"patient": "../Patient/1?x"}), wantMsg: "patient id"},
		{name: "200 not JSON", status: 200, contentType: "text/html", body: "<html>" + testAccess, wantMsg: "not a valid token response"},
		{name: "access_denied as 500", status: 500, contentType: jsonCT,
			body: `{"error":"access_denied","error_description":"The resource owner denied the request"}`, wantErr: ErrAccessDenied, wantMsg: "approve"},
		{name: "invalid_grant", status: 400, contentType: jsonCT,
			body: `{"error":"invalid_grant","error_description":"Invalid authorization code"}`, wantErr: ErrInvalidGrant, wantMsg: "connect the practice again"},
		{name: "not activated, plain text", status: 400, contentType: "text/plain",
			body: "FHIR app authentication is not enabled", wantErr: ErrNotActivated, wantMsg: "has not activated"},
		{name: "not activated, JSON", status: 400, contentType: jsonCT,
			body: `{"error":"invalid_request","error_description":"FHIR App Authentication is Not Enabled for this practice"}`, wantErr: ErrNotActivated, wantMsg: "has not activated"},
		{name: "invalid_client", status: 401, contentType: jsonCT,
			body: `{"error":"invalid_client","error_description":"Client authentication failed"}`, wantErr: ErrInvalidClient, wantMsg: "HEALOW_CLIENT_SECRET"},
		{name: "401 without body", status: 401, wantErr: ErrInvalidClient, wantMsg: "HEALOW_CLIENT_ID"},
		{name: "bad gateway", status: 502, contentType: "text/html", body: "<html>upstream " + testCode + "</html>", wantErr: ErrServerFailed, wantMsg: "HTTP 502"},
		{name: "rate limited", status: 429, wantErr: ErrRateLimited, wantMsg: "next minute"},
		{name: "server echoes secrets as JSON", status: 400, contentType: jsonCT,
			body:    string(marshal(t, map[string]string{"error": "invalid_request", "error_description": "code " + testCode + " verifier " + testVerifier + " secret " + testClientSecret})),
			wantMsg: "[redacted]"},
		{name: "server echoes the form as text", status: 400, contentType: "text/plain",
			body: "bad request: " + exchangeForm.Encode() + " auth " + url.QueryEscape(testClientSecret), wantMsg: "[redacted]"},
		{name: "body over 1 MiB", status: 200, contentType: jsonCT, body: strings.Repeat(" ", maxBody+1), wantMsg: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg, hits := ecwTokenServer(t, exchangeForm, tt.status, tt.contentType, tt.body)
			clock := newFakeClock()
			tok, err := testClient(srv, clock).Exchange(context.Background(), cfg, testCode, testVerifier)
			if hits.Load() != 1 {
				t.Errorf("token endpoint hit %d times, want 1", hits.Load())
			}
			if tt.wantErr != nil || tt.wantMsg != "" {
				if err == nil {
					t.Fatalf("Exchange succeeded: %+v", tok)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
				}
				assertNoSecrets(t, err.Error(), allSecrets...)
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if tok.AccessToken != testAccess || tok.RefreshToken != testRefresh || !strings.EqualFold(tok.TokenType, "bearer") {
				t.Errorf("token = %+v", tok)
			}
			if len(tok.Scopes) != 5 || tok.Scopes[4] != "patient/Patient.rs" {
				t.Errorf("Scopes = %q", tok.Scopes)
			}
			if tok.PatientID != tt.patient {
				t.Errorf("PatientID = %q, want %q", tok.PatientID, tt.patient)
			}
			wantExpiry := time.Time{}
			if tt.expiresIn != 0 {
				wantExpiry = clock.Now().Add(tt.expiresIn)
			}
			if !tok.Expiry.Equal(wantExpiry) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, wantExpiry)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {testRefresh}}
	body := `{"access_token":"new-access","token_type":"Bearer","expires_in":3600,"scope":"patient/Patient.rs","refresh_token":"rotated-refresh"}`
	srv, cfg, _ := ecwTokenServer(t, form, 200, "application/json", body)
	clock := newFakeClock()
	clock.Advance(90 * time.Minute)
	tok, err := testClient(srv, clock).Refresh(context.Background(), cfg, testRefresh)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.AccessToken != "new-access" || tok.RefreshToken != "rotated-refresh" || tok.PatientID != "" ||
		!tok.Expiry.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("token = %+v", tok)
	}
}

func TestRefreshInvalidGrant(t *testing.T) {
	t.Parallel()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {testRefresh}}
	body := `{"error":"invalid_grant","error_description":"refresh token ` + testRefresh + ` expired"}`
	srv, cfg, _ := ecwTokenServer(t, form, 400, "application/json", body)
	_, err := testClient(srv, newFakeClock()).Refresh(context.Background(), cfg, testRefresh)
	if !errors.Is(err, ErrInvalidGrant) {
		t.Fatalf("err = %v, want ErrInvalidGrant", err)
	}
	var oe *Error
	if !errors.As(err, &oe) || oe.HTTPStatus != 400 || oe.Code != "invalid_grant" {
		t.Errorf("err = %#v", err)
	}
	assertNoSecrets(t, err.Error(), allSecrets...)
}

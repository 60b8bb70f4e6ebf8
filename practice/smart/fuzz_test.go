package smart

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A smart-configuration ParseConfig accepts names https endpoints with a host and no userinfo
// for everything that will receive the client secret or a token, and offers S256.
func FuzzParseConfig(f *testing.F) {
	if raw, err := os.ReadFile(fixturePath); err == nil {
		f.Add(raw)
	}
	f.Add([]byte(`{"authorization_endpoint":"https://a.example/authorize","token_endpoint":"https://a.example/token","code_challenge_methods_supported":["S256"]}`))
	f.Add([]byte(`{"authorization_endpoint":"https://a.example/authorize","token_endpoint":"http://a.example/token","code_challenge_methods_supported":["S256"]}`))
	f.Add([]byte(`{"authorization_endpoint":"https://a.example/authorize","token_endpoint":"https://u:p@a.example/token","code_challenge_methods_supported":["S256"]}`))
	f.Add([]byte(`{"token_endpoint":["https://a.example"],"code_challenge_methods_supported":"S256"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := ParseConfig(raw)
		if err != nil {
			if strings.Contains(err.Error(), "\x00") {
				t.Fatalf("error carries a NUL: %q", err)
			}
			return
		}
		for _, e := range []string{c.AuthorizationEndpoint, c.TokenEndpoint} {
			u, err := url.Parse(e)
			if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
				t.Fatalf("accepted the endpoint %q", e)
			}
		}
		if c.RevocationEndpoint != "" {
			if u, err := url.Parse(c.RevocationEndpoint); err != nil || !strings.EqualFold(u.Scheme, "https") || u.User != nil {
				t.Fatalf("accepted the revocation endpoint %q", c.RevocationEndpoint)
			}
		}
		if !slices.Contains(c.CodeChallengeMethods, "S256") {
			t.Fatal("accepted a server without S256")
		}
		if _, err := ParseConfig(c.Raw); err != nil {
			t.Fatalf("the cached document does not parse again: %v", err)
		}
	})
}

var safeID = regexp.MustCompile(`^[^/?#%\\\x00-\x20\x7f-\x{10FFFF}]{1,256}$`)

// A token response parseToken accepts has a Bearer access token and, when it names a patient,
// an id that cannot change the meaning of a URL; its errors never repeat a token from the body.
func FuzzParseToken(f *testing.F) {
	f.Add([]byte(`{"access_token":"ACCESS-1","token_type":"Bearer","expires_in":3600,"scope":"openid patient/*.rs","refresh_token":"REFRESH-1","patient":"pat-1"}`))
	f.Add([]byte(`{"access_token":"ACCESS-1","token_type":"bearer","expires_in":"3600","patient":"../Patient/x"}`))
	f.Add([]byte(`{"access_token":"ACCESS-0123456789","token_type":"MAC ACCESS-0123456789"}`))
	f.Add([]byte(`{"access_token":"A","token_type":"Bearer","id_token":"e30.eyJmaGlyVXNlciI6IlBhdGllbnQvYSUyRmIifQ.c2ln"}`))
	f.Add([]byte(`{"access_token":"A","token_type":"Bearer","expires_in":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		tok, err := parseToken(body, now)
		if err != nil {
			var w map[string]any
			json.Unmarshal(body, &w)
			for _, k := range []string{"access_token", "refresh_token", "id_token"} {
				if s, ok := w[k].(string); ok && secretLike.MatchString(s) && strings.Contains(err.Error(), s) {
					t.Fatalf("the error %q repeats the %s", err, k)
				}
			}
			return
		}
		if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
			t.Fatalf("accepted %+v", tok)
		}
		if tok.PatientID != "" && !safeID.MatchString(tok.PatientID) {
			t.Fatalf("accepted the patient id %q", tok.PatientID)
		}
		if !tok.Expiry.IsZero() && !tok.Expiry.After(now) {
			t.Fatalf("an expiry of %v from now", tok.Expiry.Sub(now))
		}
	})
}

var secretLike = regexp.MustCompile(`^[A-Za-z0-9_.~+/=-]{12,}$`)

// Whatever a token endpoint answers, the error never carries a secret of the request, raw,
// form-encoded or inside the base64 of HTTP Basic, and stays one bounded line.
func FuzzTokenError(f *testing.F) {
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"refresh token REFRESH-0123456789 is not valid"}`), "REFRESH-0123456789")
	f.Add(401, []byte("Authorization: Basic aGVhbG93OnNlY3JldC0wMTIzNDU2Nzg5\r\n"), "secret-0123456789")
	f.Add(500, []byte(`{"error":"access_denied","error_description":"code=CODE-0123456789&x"}`), "CODE-0123456789")
	f.Add(400, []byte("FHIR app authentication is not enabled for this practice"), "anything-0123456789")
	f.Add(429, []byte(`{"error":"slow_down"}`), "secret-0123456789")
	f.Fuzz(func(t *testing.T, status int, body []byte, secret string) {
		if status < 100 || status > 599 || status == 200 {
			return
		}
		basic := base64.StdEncoding.EncodeToString([]byte("healow-client:" + url.QueryEscape(secret)))
		err := tokenError(status, body, secret, basic)
		if err == nil {
			t.Fatal("no error for a failed token request")
		}
		msg := err.Error()
		if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) || !utf8.ValidString(msg) {
			t.Fatalf("the error %q is not one clean line", msg)
		}
		if !secretLike.MatchString(secret) {
			return // a one-letter "secret" is redacted out of the redaction marks too, without bound
		}
		if strings.Contains(msg, secret) || strings.Contains(msg, basic) {
			t.Fatalf("the error %q carries the secret", msg)
		}
		if n := utf8.RuneCountInString(msg); n > 2*maxDescription+400 {
			t.Fatalf("the error has %d characters", n)
		}
		var oe *Error
		if errors.As(err, &oe) && utf8.RuneCountInString(oe.Description) > maxDescription+1 {
			t.Fatalf("a description of %d characters", utf8.RuneCountInString(oe.Description))
		}
	})
}

// Whatever is pasted into complete_oauth, ParseRedirect returns a code that is printable ASCII
// without spaces, or an error that does not repeat the pasted code.
func FuzzParseRedirect(f *testing.F) {
	f.Add("https://example.org/cb?code=CODE-1&state=STATE-1")
	f.Add("CODE-1")
	f.Add("?code=CODE-1&state=S#code=OTHER")
	f.Add("https://example.org/cb#code=CODE-1&state=S")
	f.Add("https://example.org/cb?error=access_denied&error_description=the%0Auser%00said+no&code=CODE-1")
	f.Add("code=CODE 1&state=S")
	f.Add(strings.Repeat("a", maxPaste+1))
	f.Fuzz(func(t *testing.T, input string) {
		code, _, err := ParseRedirect(input) // a state is only looked up, never sent or shown
		if err != nil {
			var oe *Error
			if errors.As(err, &oe) {
				if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("the error %q is not one clean line", err)
				}
				return
			}
			for _, s := range []string{strings.TrimSpace(input), pastedCode(input)} {
				if len(s) >= 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("the error %q repeats what was pasted", err)
				}
			}
			return
		}
		if !isCodeText(code) || len(code) > maxPaste {
			t.Fatalf("accepted the code %q", code)
		}
	})
}

// pastedCode is the code parameter of input, when it has one.
func pastedCode(input string) string {
	if i := strings.Index(input, "code="); i >= 0 {
		v, _, _ := strings.Cut(input[i+len("code="):], "&")
		return v
	}
	return ""
}

package smart

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRedirect(t *testing.T) {
	t.Parallel()
	const code = "Yz4.k_Q-7~abc"
	tests := []struct {
		name, in        string
		wantCode, state string
		wantErr         error  // a sentinel, or nil
		wantMsg         string // part of the message when an error is expected
	}{
		{name: "bare code", in: "  " + code + "\n", wantCode: code},
		{name: "full URL", in: "https://example.org/callback?code=" + code + "&state=st-1", wantCode: code, state: "st-1"},
		{name: "loopback URL", in: "http://127.0.0.1:8765/cb?state=s&code=" + code, wantCode: code, state: "s"},
		{name: "query only", in: "?code=" + code + "&state=s", wantCode: code, state: "s"},
		{name: "fragment", in: "https://example.org/cb#code=" + code + "&state=s", wantCode: code, state: "s"},
		{name: "percent-encoded code", in: "https://example.org/cb?code=a%2Fb%3D&state=s", wantCode: "a/b=", state: "s"},
		{name: "access denied", in: "https://example.org/cb?error=access_denied&error_description=User+denied&state=s", wantErr: ErrAccessDenied, wantMsg: "User denied"},
		{name: "not activated", in: "https://example.org/cb?error=unauthorized_client&error_description=FHIR+app+authentication+is+not+enabled", wantErr: ErrNotActivated, wantMsg: "activated"},
		{name: "other error", in: "https://example.org/cb?error=invalid_scope&state=s", wantMsg: "invalid_scope"},
		{name: "empty", in: "", wantMsg: "nothing was pasted"},
		{name: "whitespace", in: " \t\n ", wantMsg: "nothing was pasted"},
		{name: "too long", in: strings.Repeat("a", maxPaste+1), wantMsg: "longer than"},
		{name: "sentence", in: "I approved it", wantMsg: "not an authorization code"},
		{name: "control characters", in: "abc\x00def", wantMsg: "not an authorization code"},
		{name: "URL without code", in: "https://example.org/callback?state=s", wantMsg: "no code"},
		{name: "bad URL", in: "https://exa mple.org/cb?code=x", wantMsg: "not a valid URL"},
		{name: "bad query", in: "https://example.org/cb?code=%zz", wantMsg: "malformed"},
		{name: "code with space", in: "https://example.org/cb?code=a+b", wantMsg: "characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, state, err := ParseRedirect(tt.in)
			if tt.wantErr == nil && tt.wantMsg == "" {
				if err != nil || code != tt.wantCode || state != tt.state {
					t.Errorf("ParseRedirect = %q, %q, %v; want %q, %q", code, state, err, tt.wantCode, tt.state)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseRedirect accepted %q", tt.in)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseRedirectErrorsHideCode(t *testing.T) {
	t.Parallel()
	const secretCode = "SECRETCODE123"
	for _, in := range []string{
		"https://example.org/cb?code=" + secretCode + "%20x",
		"https://example.org/cb?error=access_denied&code=" + secretCode,
	} {
		_, _, err := ParseRedirect(in)
		if err == nil {
			t.Fatalf("ParseRedirect(%q) accepted it", in)
		}
		assertNoSecrets(t, err.Error(), secretCode)
	}
}

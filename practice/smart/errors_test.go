package smart

import (
	"errors"
	"strings"
	"testing"
)

func TestErrorSentences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err     *Error
		is      error
		isNot   []error
		mention []string
	}{
		{&Error{500, "access_denied", "denied"}, ErrAccessDenied, []error{ErrInvalidGrant, ErrNotActivated}, []string{"consent", "approve", `"denied"`}},
		{&Error{400, "invalid_grant", ""}, ErrInvalidGrant, []error{ErrAccessDenied}, []string{"expired", "scope", "connect the practice again"}},
		{&Error{401, "invalid_client", ""}, ErrInvalidClient, []error{ErrNotActivated}, []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET"}},
		{&Error{400, "", "FHIR app authentication is not enabled"}, ErrNotActivated, []error{ErrInvalidClient}, []string{"not activated", "ask the practice"}},
		{&Error{500, "", "FHIR app authentication is not enabled"}, nil, []error{ErrNotActivated}, []string{"HTTP 500"}},
		{&Error{400, "invalid_scope", "bad\x00scope\n\n line"}, nil, []error{ErrInvalidGrant, ErrAccessDenied, ErrInvalidClient, ErrNotActivated}, []string{"invalid_scope", "HTTP 400", `"bad scope line"`}},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		if tt.is != nil && !errors.Is(tt.err, tt.is) {
			t.Errorf("%+v is not %v", tt.err, tt.is)
		}
		for _, not := range tt.isNot {
			if errors.Is(tt.err, not) {
				t.Errorf("%+v unexpectedly is %v", tt.err, not)
			}
		}
		for _, m := range tt.mention {
			if !strings.Contains(msg, m) {
				t.Errorf("%q does not mention %q", msg, m)
			}
		}
		if strings.ContainsAny(msg, "\x00\n") {
			t.Errorf("%q contains control characters", msg)
		}
	}
}

func TestCleanText(t *testing.T) {
	t.Parallel()
	long := cleanText(strings.Repeat("x", 5000))
	if !strings.HasSuffix(long, "…") || len([]rune(long)) != maxDescription+1 {
		t.Errorf("long text not bounded: %d runes", len([]rune(long)))
	}
	if got := cleanText("  a\tb\r\n\x1b[31mc \xff d  "); got != "a b [31mc d" {
		t.Errorf("cleanText = %q", got)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	secret := "p@ss word/+"
	in := "raw " + secret + " query p%40ss+word%2F%2B path p@ss%20word%2F+"
	got := redact(in, []string{secret, ""})
	if strings.Contains(got, "ss") {
		t.Errorf("redact left a form of the secret: %q", got)
	}
	if strings.Count(got, "[redacted]") != 3 {
		t.Errorf("redact = %q", got)
	}
}

func TestTokenErrorRedactsAcrossCleaning(t *testing.T) {
	t.Parallel()
	secret := "abc def"
	// The secret split by a newline and the secret cut by truncation.
	body := "x abc\ndef " + strings.Repeat("y", maxDescription-6) + " abc def"
	err := tokenError(400, []byte(body), secret)
	if strings.Contains(err.Error(), "abc def") || strings.Contains(err.Error(), "abc…") {
		t.Errorf("secret survived: %q", err)
	}
}

package smart

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentinels for the OAuth failures a caller handles differently. Match them
// with errors.Is; the *Error that carries them explains what to do.
var (
	// ErrAccessDenied: the user refused consent (eCW answers it with HTTP 500).
	ErrAccessDenied = errors.New("access was not approved")
	// ErrInvalidGrant: the code or refresh token expired, was used or was
	// revoked, or a requested scope is unknown to the server.
	ErrInvalidGrant = errors.New("the authorization code or refresh token is no longer valid")
	// ErrInvalidClient: wrong HEALOW_CLIENT_ID or HEALOW_CLIENT_SECRET.
	ErrInvalidClient = errors.New("the client credentials were rejected")
	// ErrNotActivated: the practice has not activated the app for FHIR
	// access ("FHIR app authentication is not enabled").
	ErrNotActivated = errors.New("the practice has not activated this app")
	// ErrServerFailed: the token endpoint failed with a 5xx other than
	// access_denied; trying again later may work.
	ErrServerFailed = errors.New("the authorization server failed")
	// ErrRateLimited: HTTP 429; eCW counts 250 requests a minute per base
	// URL and lifts the limit at the end of the wall-clock minute.
	ErrRateLimited = errors.New("the practice's request limit was reached")
)

// Error is an OAuth error answer from the token or authorize endpoint.
type Error struct {
	HTTPStatus  int    // 0 when the error came back on the redirect
	Code        string // e.g. invalid_grant
	Description string // the server's error_description, cleaned
}

// Error returns a sentence saying what happened and what to do next. It
// never contains a token, code, verifier or secret: Description is
// redacted when the Error is built from a server answer.
func (e *Error) Error() string {
	said := ""
	if d := cleanText(e.Description); d != "" {
		said = fmt.Sprintf(" (the server said: %q)", d)
	}
	status := ""
	if e.HTTPStatus != 0 {
		status = fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	switch {
	case e.notActivated():
		return "the practice has not activated this app for FHIR access" + said + ": ask the practice to enable the app for patient access in eClinicalWorks, then connect again"
	case e.Code == "access_denied":
		return "access was not approved at the practice's consent screen" + said + ": connect again and approve sharing your records"
	case e.Code == "invalid_grant":
		return "the authorization was rejected as expired, already used or revoked, or a requested scope is unknown to the server" + said + ": connect the practice again"
	case e.Code == "invalid_client":
		return "the practice's authorization server rejected the client credentials" + said + ": check HEALOW_CLIENT_ID and HEALOW_CLIENT_SECRET"
	case e.Code == "":
		return "the authorization server refused the request" + status + said
	default:
		return fmt.Sprintf("the authorization server answered %s%s%s", cleanText(e.Code), status, said)
	}
}

// Is lets errors.Is match an *Error against the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.Code == "access_denied"
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrInvalidClient:
		return e.Code == "invalid_client"
	case ErrNotActivated:
		return e.notActivated()
	}
	return false
}

// notActivated recognises eCW's answer for a practice that has not switched
// the app on; it comes as JSON or plain text, so the words are what count.
func (e *Error) notActivated() bool {
	return (e.HTTPStatus == 400 || e.HTTPStatus == 0) &&
		strings.Contains(strings.ToLower(e.Code+" "+e.Description), "not enabled")
}

// tokenError turns a non-200 token endpoint answer into an error. secrets
// are the values sent in the request; a server that echoes one back must not
// get it into an error message.
func tokenError(status int, body []byte, secrets ...string) error {
	var w struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	isJSON := json.Unmarshal(body, &w) == nil && w.Error != ""
	code, desc := "", string(body)
	if isJSON {
		code, desc = w.Error, w.Description
	}
	// Redact before cleaning, so truncation cannot keep half a secret, and
	// after, in case collapsing whitespace rejoined one.
	desc = redact(cleanText(redact(desc, secrets)), secrets)
	code = redact(cleanText(redact(code, secrets)), secrets)
	switch {
	case status >= 500:
		if code == "access_denied" || (!isJSON && strings.Contains(string(body), "access_denied")) {
			if !isJSON {
				desc = ""
			}
			return &Error{HTTPStatus: status, Code: "access_denied", Description: desc}
		}
		return fmt.Errorf("%w: the token endpoint answered HTTP %d, a problem on the practice's side; try again in a few minutes", ErrServerFailed, status)
	case status == 429:
		return fmt.Errorf("%w: the token endpoint answered HTTP 429; wait until the next minute and try again", ErrRateLimited)
	case status == 401 && code == "":
		code = "invalid_client"
	}
	return &Error{HTTPStatus: status, Code: code, Description: desc}
}

// maxDescription bounds server text quoted in an error message.
const maxDescription = 300

// cleanText makes server-supplied text safe to show: no control characters
// or invalid UTF-8, collapsed whitespace, bounded length.
func cleanText(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.ToValidUTF8(s, " ") {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if n >= maxDescription || space && n+1 >= maxDescription {
			b.WriteString("…")
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// redact removes every secret, raw or form-encoded, from s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" || !utf8.ValidString(sec) {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

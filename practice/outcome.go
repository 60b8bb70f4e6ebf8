package practice

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// maxOutcome bounds the words an OperationOutcome contributes to an error message.
const maxOutcome = 300

// describeOutcome renders an OperationOutcome body as one line ("error invalid: diagnostics;
// ..."), or "" when the body is not one. Other bodies are left out on purpose: an error page
// may echo request headers, and error texts reach the model. An OperationOutcome may echo them
// too, so credentials are cut out of it: every value in secrets (the token the request carried),
// and whatever follows an HTTP authentication scheme or names a token.
func describeOutcome(body []byte, secrets ...string) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Severity    string `json:"severity"`
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	var parts []string
	for _, is := range oo.Issue {
		words := is.Diagnostics
		if words == "" {
			words = is.Details.Text
		}
		p := strings.TrimSpace(is.Severity + " " + is.Code)
		if words != "" {
			p += ": " + words
		}
		parts = append(parts, p)
	}
	return outcomeWords(strings.Join(parts, "; "), secrets)
}

// RedactOutcome renders what a practice said in an OperationOutcome that came inside a 2xx
// answer (a search Bundle's outcome entry) for a message a model reads, as describeOutcome
// renders an error's: credentials redacted, control characters as spaces, cut at 300 bytes.
func RedactOutcome(s string) string { return outcomeWords(s, nil) }

func outcomeWords(s string, secrets []string) string {
	// Redact before anything is cut, so no half of a secret survives, and again after control
	// characters became spaces, which could rejoin a scheme and its credential.
	s = redactCredentials(s, secrets)
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = redactCredentials(s, secrets)
	if len(s) > maxOutcome {
		s = strings.ToValidUTF8(s[:maxOutcome], "") + "…"
	}
	return s
}

// credential matches what a server echoing a request would show of its credentials: the value
// after an Authorization scheme ("Bearer abc", "Basic dXNlcjpw"), or after a token's name in a
// form or query ("access_token=abc", "refresh_token: abc").
var credential = regexp.MustCompile(`(?i)\b(bearer\s+|basic\s+|` +
	`(?:access_token|refresh_token|id_token|client_secret|code_verifier)"?\s*[:=]\s*"?)([^\s"',;&]+)`)

func redactCredentials(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return credential.ReplaceAllStringFunc(s, func(m string) string {
		parts := credential.FindStringSubmatch(m)
		// "Basic" is also a word of medicine ("basic metabolic panel"): only a value that is
		// base64 of user:password is a credential.
		if strings.HasPrefix(strings.ToLower(parts[1]), "basic") && !isBasicCredential(parts[2]) {
			return m
		}
		return parts[1] + "[redacted]"
	})
}

func isBasicCredential(v string) bool {
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && strings.Contains(string(b), ":")
}

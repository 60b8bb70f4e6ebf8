package practice

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// minRedacted is the shortest token redactToken looks for: no real access token is shorter, and
// replacing a few common letters would mangle records.
const minRedacted = 8

// redactToken replaces, in a 2xx body about to leave the actor, every form of the access token
// the request carried (as sent, URL-encoded, JSON-escaped) by "[redacted]". A practice that
// echoes the request into a resource or an OperationOutcome inside a 200 answer would otherwise
// hand the token to the model. The actor alone holds the token, so it is the one place that can
// know what to look for; the search costs a few fast scans and copies nothing when the token is
// absent, which is always but for such a practice.
func redactToken(body []byte, token string) []byte {
	if len(token) < minRedacted {
		return body
	}
	for _, form := range tokenForms(token) {
		if bytes.Contains(body, []byte(form)) {
			body = bytes.ReplaceAll(body, []byte(form), []byte("[redacted]"))
		}
	}
	return body
}

// tokenForms lists the ways a token may be written in a body, each once.
func tokenForms(token string) []string {
	var forms []string
	add := func(f string) {
		for _, g := range forms {
			if g == f {
				return
			}
		}
		forms = append(forms, f)
	}
	add(token)
	add(url.QueryEscape(token))
	add(url.PathEscape(token))
	for _, html := range []bool{true, false} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(html) // Go escapes <, > and & by default; most writers do not
		enc.Encode(token)
		inner := strings.TrimSuffix(buf.String(), "\n")
		inner = inner[1 : len(inner)-1]
		add(inner)
		add(strings.ReplaceAll(inner, "/", `\/`)) // as PHP and others escape the slash
	}
	return forms
}

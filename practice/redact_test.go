package practice

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The token a request carried leaves the actor in no form a body may write it in, and a body
// without it comes back as it was, not copied.
func TestRedactTokenForms(t *testing.T) {
	t.Parallel()
	token := "eyJhbGciOi.J9/x+y=z&<tok>"
	jsonHTML, _ := json.Marshal(token)
	body := strings.Join([]string{
		"raw " + token,
		"query " + url.QueryEscape(token),
		"path " + url.PathEscape(token),
		"json " + string(jsonHTML),
		"json-slash " + strings.ReplaceAll(strings.Trim(string(jsonHTML), `"`), "/", `\/`),
		`json-plain "eyJhbGciOi.J9/x+y=z&<tok>"`,
	}, "\n")
	got := string(redactToken([]byte(body), token))
	for _, part := range []string{"eyJhbGciOi", "J9", "tok"} {
		if strings.Contains(got, part) {
			t.Fatalf("%q survived in\n%s", part, got)
		}
	}
	if strings.Count(got, "[redacted]") != 6 {
		t.Fatalf("redacted:\n%s", got)
	}
	clean := []byte(`{"resourceType":"Observation","valueString":"nothing to see"}`)
	if out := redactToken(clean, token); &out[0] != &clean[0] {
		t.Fatal("a body without the token was copied")
	}
	if out := redactToken([]byte("a short abc token"), "abc"); string(out) != "a short abc token" {
		t.Fatalf("a token too short to be real mangled the body: %s", out)
	}
}

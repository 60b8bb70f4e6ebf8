package smart

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// NormalizeBase validates a FHIR base URL (https, absolute, no query,
// fragment or userinfo) and returns it without a trailing slash, so that
// paths such as "/.well-known/smart-configuration" can be appended to it.
func NormalizeBase(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("the FHIR base URL is empty: give the practice's address, e.g. https://fhir4.healow.com/fhir/r4/FEIGCD")
	}
	u, err := checkHTTPSURL(s)
	if err != nil {
		return "", fmt.Errorf("FHIR base URL: %w", err)
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("FHIR base URL %s has a query (?...): give the base address only, e.g. https://fhir4.healow.com/fhir/r4/FEIGCD", quote.Quote(s))
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "", fmt.Errorf("FHIR base URL %s has a fragment (#...): give the base address only, e.g. https://fhir4.healow.com/fhir/r4/FEIGCD", quote.Quote(s))
	}
	return strings.TrimRight(s, "/"), nil
}

// checkHTTPSURL parses s and insists on an absolute https URL without
// userinfo. Everything this package talks to receives either a secret or a
// token, so plain http is never acceptable, and userinfo in a URL is a
// credential that would end up in logs.
func checkHTTPSURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL: %s", quote.Quote(s), quote.URLReason(err))
	}
	switch {
	case strings.EqualFold(u.Scheme, "http"):
		return nil, fmt.Errorf("%s uses http://, which is refused: tokens and the client secret would travel in clear text; use the https:// address", quote.Quote(s))
	case !strings.EqualFold(u.Scheme, "https"):
		return nil, fmt.Errorf("%s must be an absolute https:// URL", quote.Quote(s))
	case u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("%s must be an absolute https:// URL with a host name", quote.Quote(s))
	case u.User != nil:
		return nil, fmt.Errorf("%s contains a user name or password before the host, which is refused: remove the part before '@'", quote.Quote(redactUserinfo(u)))
	}
	return u, nil
}

// redactUserinfo renders u without its userinfo so that an error message
// never repeats a password the user pasted by mistake.
func redactUserinfo(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

package practice

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// IsID reports whether s is a FHIR id (1-64 letters, digits, '-' and '.'), the only form an id
// may take in a request path.
func IsID(s string) bool { return idPattern.MatchString(s) }

// ResolveAttachment turns an Attachment.url from a DocumentReference into the absolute URL to
// fetch with the practice's token. eCW gives relative ones ("Binary/<id>"), which are resolved
// against base; whatever the url says, the result must lie inside base (same scheme, host,
// port and path prefix), or the token would go elsewhere.
func ResolveAttachment(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fmt.Errorf("url: empty; give the attachment's url, e.g. Binary/<id>")
	}
	b, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
	if err != nil {
		return "", fmt.Errorf("practice base URL: %w", err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("url: %s is not a URL: %s", quote.Quote(ref), quote.URLReason(err))
	}
	abs := b.ResolveReference(r).String()
	if _, err := InsideBase(base, abs); err != nil {
		return "", fmt.Errorf("url: %s resolves outside the practice's FHIR base %s; refusing to send the practice's token there: %w", quote.Quote(ref), base, ErrOutsideBase)
	}
	return abs, nil
}

// BinaryID returns the id of a Binary when abs, an absolute URL inside base, reads one:
// {base}/Binary/{id} with no query.
func BinaryID(base, abs string) (string, bool) {
	rest, ok := strings.CutPrefix(abs, strings.TrimSuffix(base, "/")+"/Binary/")
	if !ok || !IsID(rest) {
		return "", false
	}
	return rest, true
}

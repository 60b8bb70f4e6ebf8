package practice

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// Request is one FHIR read or search, relative to a practice's base URL. Exactly one form is used:
//   - Metadata: the practice's CapabilityStatement, GET {base}/metadata (cached by the actor);
//   - Next: a paging link the server returned (it must point inside the practice's own base);
//   - Attachment: the content an attachment of one of the patient's records points to;
//   - Resource and ID: a read, GET {base}/{Resource}/{ID};
//   - Resource alone: a search, GET {base}/{Resource}?{Params}.
//
// Every search of a type that holds patient data is limited to the connected patient by the
// actor (see limits.go); Validate checks only the request's shape.
type Request struct {
	Resource string
	ID       string
	Params   url.Values
	Next     string
	Metadata bool
	// Attachment is an attachment's URL inside the base, as a DocumentReference or another of
	// the patient's records gives it (Binary/<id> resolved against the base): read only when
	// one of the patient's own records that came through this actor holds it.
	Attachment string

	// Accept overrides the Accept header (default application/fhir+json).
	Accept string
}

var (
	// FHIR R4 id rule: https://hl7.org/fhir/R4/datatypes.html#id
	idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	// A search parameter name, with modifiers and chains (code:text, subject:Patient.name).
	paramPattern = regexp.MustCompile(`^_?[A-Za-z][A-Za-z0-9_\-.:]{0,99}$`)
)

// Bounds on what a request may carry: FHIR servers cap URLs at a few KiB, and anything longer
// is a mistake or an attack, not a query.
const (
	maxParamValue = 1024    // one search value
	maxQuery      = 8 << 10 // every parameter name and value together
	maxLink       = 8 << 10 // a next link or an attachment URL
)

// Validate checks the request's shape without a base URL: the resource type against FHIR R4,
// the id against FHIR's id rule, and every search parameter name. Errors name the field and
// the rule.
func (r Request) Validate() error {
	if r.Metadata {
		if r.Resource != "" || r.ID != "" || len(r.Params) > 0 || r.Next != "" || r.Attachment != "" {
			return fmt.Errorf("metadata: the CapabilityStatement takes no resource, id, params or next")
		}
		return nil
	}
	if r.Attachment != "" {
		if r.Resource != "" || r.ID != "" || len(r.Params) > 0 || r.Next != "" {
			return fmt.Errorf("url: give either an attachment's url or a resource with id/params, not both")
		}
		if len(r.Attachment) > maxLink {
			return fmt.Errorf("url: %d bytes, longer than any attachment url (%d at most)", len(r.Attachment), maxLink)
		}
		return nil
	}
	if r.Next != "" {
		if r.Resource != "" || r.ID != "" || len(r.Params) > 0 {
			return fmt.Errorf("next: give either a next link or a resource with id/params, not both")
		}
		if len(r.Next) > maxLink {
			return fmt.Errorf("next: %d bytes, longer than any paging link (%d at most); pass the Bundle's link[next].url as it is", len(r.Next), maxLink)
		}
		return nil
	}
	if !fhir.IsResourceType(r.Resource) {
		return fmt.Errorf("resource: %s is not a FHIR R4 resource type (for example Patient, Observation, Condition)", quote.Quote(r.Resource))
	}
	if r.ID != "" {
		if !idPattern.MatchString(r.ID) {
			return fmt.Errorf("id: %s is not a FHIR id (1-64 characters: letters, digits, '-' and '.')", quote.Quote(r.ID))
		}
		if len(r.Params) > 0 {
			return fmt.Errorf("params: a read by id takes no search parameters")
		}
		return nil
	}
	total := 0
	for name, values := range r.Params {
		total += len(name)
		for _, v := range values {
			total += len(v) + 2
		}
		if !paramPattern.MatchString(name) {
			return fmt.Errorf("params: %s is not a search parameter name (letters, digits, '_', '-', '.', ':')", quote.Quote(name))
		}
		for _, v := range values {
			if len(v) > maxParamValue {
				return fmt.Errorf("params.%s: a value is longer than %d characters", name, maxParamValue)
			}
			if strings.ContainsAny(v, "\x00\r\n") {
				return fmt.Errorf("params.%s: a value contains a control character", name)
			}
		}
	}
	if total > maxQuery {
		return fmt.Errorf("params: %d bytes of names and values, more than the %d a practice takes in one URL; narrow the search instead", total, maxQuery)
	}
	return nil
}

// InsideBase returns link when it points inside base and an error otherwise.
func InsideBase(base, link string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("practice base URL: %w", err)
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("next: not a URL: %s", quote.URLReason(err))
	}
	if !u.IsAbs() {
		return "", fmt.Errorf("next: %s is not an absolute URL; pass the Bundle's link[next].url as it is", quote.Quote(link))
	}
	prefix := strings.TrimSuffix(b.EscapedPath(), "/") + "/"
	path := u.EscapedPath()
	// The escaped path decides the prefix (it is what goes on the wire); the decoded one decides
	// whether a server that decodes %2e%2e or %2f before resolving dot segments would climb out.
	// The base itself is inside: servers page with {base}?_getpages=... links.
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Fragment != "" ||
		!strings.HasPrefix(path+"/", prefix) || climbs(path) || climbs(u.Path) {
		return "", fmt.Errorf("%w: next link is outside the practice's FHIR base %s; refusing to send the practice's token there", ErrOutsideBase, base)
	}
	return u.String(), nil
}

// climbs reports whether some server could read path as leaving the folder it names: a "." or
// ".." segment (also Tomcat's "..;param"), a backslash (IIS reads it as a slash), a control
// character, or anything beyond ASCII (a server that normalises Unicode reads the fullwidth
// "．．／" as "../"). eCW's paths are ASCII: /fhir/r4/<code>/<type>/<id>.
func climbs(path string) bool {
	if strings.ContainsRune(path, '\\') || strings.ContainsFunc(path, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
		return true
	}
	for seg := range strings.SplitSeq(path, "/") {
		seg, _, _ = strings.Cut(seg, ";")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

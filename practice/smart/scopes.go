package smart

import (
	"net/url"
	"strings"
)

// identityScopes ask for the id_token and its fhirUser claim (which carries
// the patient id when the token response does not), a refresh token, and
// the patient context of a standalone launch.
var identityScopes = []string{"openid", "fhirUser", "offline_access", "launch/patient"}

// Scopes returns the scopes to request from the server described by c.
//
// eCW answers invalid_grant to a scope it does not know, so when the server
// publishes scopes_supported only strings it advertises are chosen, and the
// category-qualified ones are copied verbatim from that list (typos
// included) rather than rebuilt. When scopes_supported is absent the
// preferred strings are built instead. Resource scopes use the SMART v2
// form (.rs, else .r, else v1 .read) when the server has permission-v2, and
// v1 .read otherwise. Observation and Condition are requested per known
// category when the server offers category-qualified scopes for them, and
// as plain resource scopes when it does not.
//
// The result has no duplicates and a stable order: identity scopes, then
// Resources in order.
func Scopes(c *Config) []string {
	var supportedList []string
	if c != nil {
		supportedList = c.ScopesSupported
	}
	listed := len(supportedList) > 0
	supported := make(map[string]bool, len(supportedList))
	for _, s := range supportedList {
		supported[s] = true
	}

	var out []string
	seen := make(map[string]bool)
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}

	for _, s := range identityScopes {
		if !listed || supported[s] {
			add(s)
		}
	}
	perms := permissionForms(c)
	for _, res := range Resources {
		if qualified := categoryScopes(supportedList, res, perms); len(qualified) > 0 {
			for _, s := range qualified {
				add(s)
			}
			continue
		}
		add(resourceScope(supported, listed, res, perms))
	}
	return out
}

// permissionForms lists the permission suffixes to try, best first.
func permissionForms(c *Config) []string {
	if c.SupportsV2() {
		return []string{"rs", "r", "read"}
	}
	return []string{"read"}
}

// resourceScope picks the first permission form the server advertises, or
// builds the preferred one when it advertises nothing. "" means the server
// lists scopes but none for this resource, so asking would fail.
func resourceScope(supported map[string]bool, listed bool, resource string, perms []string) string {
	for _, p := range perms {
		s := "patient/" + resource + "." + p
		if !listed || supported[s] {
			return s
		}
	}
	return ""
}

// categoryScopes returns, for each known category of resource in order, the
// first advertised category-qualified scope (in the order of perms) that
// matches it. The strings are returned exactly as advertised.
func categoryScopes(supported []string, resource string, perms []string) []string {
	cats := categoriesFor(resource)
	if cats == nil {
		return nil
	}
	parsed := make([]scopeParts, 0, len(supported))
	for _, s := range supported {
		if p, ok := parseScope(s); ok && p.context == "patient" && p.resource == resource && p.code != "" {
			parsed = append(parsed, p)
		}
	}
	var out []string
	for _, cat := range cats {
	perm:
		for _, perm := range perms {
			for _, p := range parsed {
				if p.perm == perm && p.code == cat.Code && sameSystem(p.system, cat.System) {
					out = append(out, p.raw)
					break perm
				}
			}
		}
	}
	return out
}

// ScopeFor returns the scope in granted that lets the client read resource
// (in category, when category is not ""), or "" when none does, so a caller
// can tell the user which access is missing. A category-qualified scope is
// preferred, then a scope for the resource, then a wildcard.
func ScopeFor(granted []string, resource, category string) string {
	var want Category
	if category != "" {
		c, err := LookupCategory(resource, category)
		if err != nil {
			c = Category{Code: category} // unknown name: match on the code alone
		}
		want = c
	}
	var parsed []scopeParts
	for _, g := range granted {
		p, ok := parseScope(g)
		if ok && (p.context == "patient" || p.context == "user") && readable(p.perm) {
			parsed = append(parsed, p)
		}
	}
	if category != "" {
		for _, p := range parsed {
			if p.resource == resource && p.code == want.Code && (want.System == "" || sameSystem(p.system, want.System)) {
				return p.raw
			}
		}
	}
	for _, name := range []string{resource, "*"} {
		for _, p := range parsed {
			if !p.qualified && p.resource == name {
				return p.raw
			}
		}
	}
	return ""
}

// readable reports whether a v1 or v2 permission grants reads.
func readable(perm string) bool {
	if perm == "read" || perm == "*" {
		return true
	}
	if perm == "" || strings.Trim(perm, "cruds") != "" {
		return false
	}
	return strings.Contains(perm, "r")
}

// scopeParts is a resource scope split into its pieces:
// "<context>/<resource>.<perm>[?category=<system>|<code>]".
type scopeParts struct {
	raw                     string
	context, resource, perm string
	qualified               bool // has a query, whatever it says
	system, code            string
}

func parseScope(s string) (scopeParts, bool) {
	head, query, hasQuery := strings.Cut(s, "?")
	ctx, rest, ok := strings.Cut(head, "/")
	if !ok {
		return scopeParts{}, false
	}
	res, perm, ok := strings.Cut(rest, ".")
	if !ok || ctx == "" || res == "" || perm == "" {
		return scopeParts{}, false
	}
	p := scopeParts{raw: s, context: ctx, resource: res, perm: perm, qualified: hasQuery}
	if name, value, ok := strings.Cut(query, "="); ok && name == "category" && !strings.Contains(value, "&") {
		// PathUnescape, not QueryUnescape: a literal "+" must stay a "+".
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		if i := strings.LastIndex(value, "|"); i > 0 && i < len(value)-1 {
			p.system, p.code = value[:i], value[i+1:]
		}
	}
	return p, true
}

// sameSystem compares CodeSystem URLs modulo the typos eCW copied from the
// US Core scope table, such as
// "http://terminology.hl7.org//CodeSystem-observation-category": case, the
// scheme, doubled slashes, and "/" versus "-" between path segments.
func sameSystem(a, b string) bool {
	return a != "" && normaliseSystem(a) == normaliseSystem(b)
}

func normaliseSystem(s string) string {
	s = strings.ToLower(s)
	for _, scheme := range []string{"https://", "http://"} {
		s = strings.TrimPrefix(s, scheme)
	}
	var b strings.Builder
	lastSep := true // also drops leading separators
	for _, r := range s {
		if r == '/' || r == '-' {
			if !lastSep {
				b.WriteByte('/')
			}
			lastSep = true
			continue
		}
		b.WriteRune(r)
		lastSep = false
	}
	return strings.TrimSuffix(b.String(), "/")
}

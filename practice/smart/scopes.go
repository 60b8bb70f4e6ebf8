package smart

import (
	"net/url"
	"slices"
	"strings"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
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
// included) rather than rebuilt. The granular scopes it lists are preferred:
// Observation and Condition per known category when the server offers
// category-qualified scopes for them, plain resource scopes otherwise, in
// the best permission form it lists (.rs, else .r, else v1 .read). When it
// lists no granular scope for some resource the tools read, the wildcard
// form it lists is requested too (patient/*.rs, *.r, *.read, *.*), so that a
// server advertising only wildcards, or granular scopes for a few types and
// a wildcard for the rest, is still asked for all the data it offers.
//
// When scopes_supported is absent, plain SMART v2 resource scopes are built
// (patient/Observation.rs, no categories, and patient/Binary.r), unless the
// server declares permission-v1 without permission-v2, which gets v1 .read.
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
	uncovered := false // a resource the tools read that no listed granular scope reads
	for _, res := range Resources {
		if qualified := categoryScopes(supportedList, res, perms); len(qualified) > 0 {
			for _, s := range qualified {
				add(s)
			}
			continue
		}
		if !listed {
			add(builtScope(res, perms))
			continue
		}
		s := resourceScope(supported, res, perms)
		uncovered = uncovered || s == ""
		add(s)
	}
	if uncovered {
		add(wildcardScope(supportedList))
	}
	return out
}

// permissionForms lists the permission suffixes to try, best first. A server
// that says nothing of its permission model is taken to speak SMART v2, as
// App Launch 2.x servers do; one that declares only v1 gets v1.
func permissionForms(c *Config) []string {
	if c != nil && c.Has("permission-v1") && !c.SupportsV2() {
		return []string{"read"}
	}
	return []string{"rs", "r", "read"}
}

// builtScope is the scope asked for when the server lists none: the first
// permission form, except that a Binary is only read, never searched.
func builtScope(resource string, perms []string) string {
	if resource == "Binary" && perms[0] == "rs" {
		return "patient/Binary.r"
	}
	return "patient/" + resource + "." + perms[0]
}

// wildcardScope returns the narrowest patient wildcard the server lists that
// grants reads, or "" when it lists none.
func wildcardScope(supported []string) string {
	best, rank := "", len(wildcardOrder)
	for _, s := range supported {
		p, ok := parseScope(s)
		if !ok || p.context != "patient" || p.resource != "*" || p.qualified || !readable(p.perm) {
			continue
		}
		r := len(wildcardOrder) - 1
		for i, perm := range wildcardOrder {
			if p.perm == perm {
				r = i
			}
		}
		if r < rank || best == "" {
			best, rank = s, r
		}
	}
	return best
}

// wildcardOrder ranks wildcard permissions from the narrowest read.
var wildcardOrder = []string{"rs", "r", "read", "*", "cruds"}

// resourceScope picks the first permission form the server advertises. ""
// means the server lists scopes but none for this resource, so asking would
// fail.
func resourceScope(supported map[string]bool, resource string, perms []string) string {
	for _, p := range perms {
		if s := "patient/" + resource + "." + p; supported[s] {
			return s
		}
	}
	return ""
}

// categoryScopes returns, for each known category of resource in order, the
// first advertised category-qualified scope (in the order of perms) that
// matches it. The strings are returned exactly as advertised.
func categoryScopes(supported []string, resource string, perms []string) []string {
	cats := fhir.Categories(resource)
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
	var want fhir.Category
	if category != "" {
		c, err := fhir.LookupCategory(resource, category)
		if err != nil {
			c = fhir.Category{Code: category} // unknown name: match on the code alone
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

// Readable lists, in order, the resource types that granted lets the client read through
// patient or user resource scopes, category-qualified ones included; "*" stands for all.
func Readable(granted []string) []string {
	var out []string
	for _, g := range granted {
		p, ok := parseScope(g)
		if ok && (p.context == "patient" || p.context == "user") && readable(p.perm) && !slices.Contains(out, p.resource) {
			out = append(out, p.resource)
		}
	}
	return out
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

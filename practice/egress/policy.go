// Package egress decides where healow may send the app's client secret and a practice's tokens:
// to eClinicalWorks' own servers, and to the hosts the user lists in HEALOW_ALLOWED_HOSTS. A
// model can be talked into connecting any address; the list, set by the user outside the
// model's reach, is what decides. It also refuses connections to loopback, private, link-local
// and cloud metadata addresses unless the user listed the host (see Policy.DialContext).
//
// The zero Policy and a nil *Policy allow eClinicalWorks' servers only, so a component wired
// without one sends nothing anywhere else. Standard library only.
package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// EnvVar names the environment variable that lists the hosts the user allows besides
// eClinicalWorks' own.
const EnvVar = "HEALOW_ALLOWED_HOSTS"

// eClinicalWorks' published hosts, from its smart-configurations and developer pages: healow's patient-facing FHIR server, the
// provider-facing one, eCW's sandbox, and the one authorization server all of them name. The
// sandbox's own authorization server is not known; its users list it in HEALOW_ALLOWED_HOSTS.
var (
	ecwFHIRHosts = []string{"fhir4.healow.com", "fhir4.eclinicalworks.com", "staging-fhir.ecwcloud.com"}
	ecwAuthHosts = []string{"oauthserver.eclinicalworks.com"}
)

// ErrNotAllowed is wrapped by every refusal of this package, so callers can tell a refused host
// (which only the user can allow) from a failure that may pass.
var ErrNotAllowed = errors.New("host not allowed")

// Policy says which hosts may receive a practice's tokens and the client secret. Build one with
// Parse; it is immutable and safe for concurrent use.
type Policy struct {
	listed []string // normalized: see canonical
}

// Parse reads a HEALOW_ALLOWED_HOSTS value: host names or IP addresses separated by commas,
// matched exactly (case-insensitively, ignoring a trailing dot), on any port. IPv6 addresses may
// be written with or without brackets. Anything else, a scheme, a path, a port, a wildcard or
// spaces inside an entry, is an error that says which entry and why: a list that does not mean
// what its author thinks is worse than none.
func Parse(list string) (*Policy, error) {
	return (*Policy)(nil).With(strings.Split(list, ",")...)
}

// With returns a policy that allows hosts besides what p allows, each written as in Parse. The
// demo and the tests allow the sandbox this way.
func (p *Policy) With(hosts ...string) (*Policy, error) {
	out := &Policy{}
	if p != nil {
		out.listed = slices.Clone(p.listed)
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue // "a, b," is a slip, not a different meaning
		}
		c, err := parseEntry(h)
		if err != nil {
			return nil, fmt.Errorf("%s: %q %w", EnvVar, h, err)
		}
		if !slices.Contains(out.listed, c) {
			out.listed = append(out.listed, c)
		}
	}
	return out, nil
}

// Hosts are the hosts the user listed, in canonical form and in the order given.
func (p *Policy) Hosts() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.listed)
}

// String is the list as a HEALOW_ALLOWED_HOSTS value.
func (p *Policy) String() string { return strings.Join(p.Hosts(), ",") }

// Listed reports whether the user listed host (a host name or an IP address, as in a URL).
func (p *Policy) Listed(host string) bool {
	c, ok := canonical(host)
	return ok && p != nil && slices.Contains(p.listed, c)
}

// CheckFHIRBase returns nil when a practice's FHIR base URL may receive its access token: its
// host is one of eClinicalWorks' FHIR servers or listed by the user.
func (p *Policy) CheckFHIRBase(rawURL string) error {
	host, err := hostOf(rawURL)
	if err != nil {
		return err
	}
	if slices.Contains(ecwFHIRHosts, host) || p.Listed(host) {
		return nil
	}
	return &refusal{fmt.Sprintf("%s is not one of eClinicalWorks' FHIR servers (%s), so healow sends no token there; "+
		"if you trust it, add %s to %s and start healow again", host, strings.Join(ecwFHIRHosts, ", "), host, EnvVar)}
}

// CheckAuthServer returns nil when an endpoint may receive the client secret, an authorization
// code or a refresh token (a token or revocation endpoint): its host is eClinicalWorks'
// authorization server or listed by the user.
func (p *Policy) CheckAuthServer(rawURL string) error {
	host, err := hostOf(rawURL)
	if err != nil {
		return err
	}
	if slices.Contains(ecwAuthHosts, host) || p.Listed(host) {
		return nil
	}
	return &refusal{fmt.Sprintf("the token endpoint's host %s is not eClinicalWorks' authorization server (%s), and the client "+
		"secret is sent only there; if this practice is on eClinicalWorks' sandbox (staging-fhir.ecwcloud.com), whose "+
		"authorization server healow does not know, or on another server you trust, add %s to %s and start healow again",
		host, strings.Join(ecwAuthHosts, ", "), host, EnvVar)}
}

// refusal is a host this package will not send to. Its text says what to do; errors.Is matches
// ErrNotAllowed.
type refusal struct{ msg string }

func (r *refusal) Error() string        { return r.msg }
func (r *refusal) Is(target error) bool { return target == ErrNotAllowed }

// hostOf is the canonical host of an absolute URL.
func hostOf(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", &refusal{fmt.Sprintf("%q is not an absolute URL, so nothing is sent to it", rawURL)}
	}
	host, ok := canonical(u.Hostname())
	if !ok {
		return "", &refusal{fmt.Sprintf("the host of %s is not a host name or an IP address, so nothing is sent to it", u.Redacted())}
	}
	return host, nil
}

// canonical is the form hosts are compared in: IP addresses as netip writes them (IPv4-mapped
// IPv6 as IPv4, no zone), names in lower case without a trailing dot. ok is false for what is
// neither.
func canonical(host string) (string, bool) {
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", false
		}
		return ip.Unmap().String(), true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !validName(host) {
		return "", false
	}
	return host, true
}

// validName accepts DNS names of letters, digits, hyphens and underscores, in labels of 1 to 63
// characters, whose last label is not all digits (which would be an IPv4 address in a form
// netip does not read, such as 127.1).
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// parseEntry checks one entry of the list and returns it in canonical form. The errors follow
// the entry in a sentence ("HEALOW_ALLOWED_HOSTS: "x" ...").
func parseEntry(h string) (string, error) {
	lower := strings.ToLower(h)
	switch {
	case strings.Contains(h, "://"):
		return "", errors.New("has a scheme: give the host alone, such as fhir.example.org")
	case strings.ContainsAny(h, " \t\r\n\v\f"):
		return "", errors.New("has spaces inside: separate hosts with commas")
	case strings.Contains(h, "*"):
		return "", errors.New("has a wildcard: list each host by its full name")
	case strings.ContainsAny(h, "/\\?#"):
		return "", errors.New("has a path: give the host alone, such as fhir.example.org")
	case strings.Contains(h, "@"):
		return "", errors.New("has a user name: give the host alone")
	case strings.Contains(h, "%"):
		return "", errors.New("has a zone or an escape: give the address without it")
	}
	if strings.HasPrefix(h, "[") {
		inner, rest, _ := strings.Cut(h[1:], "]")
		if rest != "" {
			return "", errors.New("has a port: leave it out, any port of a listed host is allowed")
		}
		ip, err := netip.ParseAddr(inner)
		if err != nil || !ip.Is6() {
			return "", errors.New("is not an IPv6 address in brackets")
		}
		h = inner
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Unmap().IsUnspecified() {
			return "", errors.New("is the unspecified address, which no server has")
		}
		return ip.Unmap().String(), nil
	}
	if strings.Contains(h, ":") {
		return "", errors.New("has a port: leave it out, any port of a listed host is allowed")
	}
	for _, r := range lower {
		if r > 0x7f {
			return "", errors.New("is not ASCII: write an international name in its xn-- form")
		}
	}
	c, ok := canonical(h)
	if !ok {
		return "", errors.New("is not a host name or an IP address")
	}
	return c, nil
}

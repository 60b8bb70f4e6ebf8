package egress

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		list string
		want []string // canonical hosts, or nil with err
		err  string   // part of the error, when the list is refused
	}{
		{"", nil, ""},
		{" , ,", nil, ""},
		{"fhir.example.org", []string{"fhir.example.org"}, ""},
		{"FHIR.Example.ORG.", []string{"fhir.example.org"}, ""},
		{"a.example, b.example ,a.example", []string{"a.example", "b.example"}, ""},
		{"127.0.0.1,localhost", []string{"127.0.0.1", "localhost"}, ""},
		{"::1", []string{"::1"}, ""},
		{"[::1]", []string{"::1"}, ""},
		{"[2001:DB8::1]", []string{"2001:db8::1"}, ""},
		{"::ffff:127.0.0.1", []string{"127.0.0.1"}, ""},
		{"xn--bcher-kva.example", []string{"xn--bcher-kva.example"}, ""},
		{"under_score.example", []string{"under_score.example"}, ""},

		// Hostile or mistaken entries: each refused, naming the entry and the rule.
		{"https://fhir.example.org", nil, "has a scheme"},
		{"fhir.example.org/fhir/r4", nil, "has a path"},
		{"fhir.example.org:443", nil, "has a port"},
		{"127.0.0.1:8443", nil, "has a port"},
		{"[::1]:8443", nil, "has a port"},
		{"*.example.org", nil, "wildcard"},
		{"example.org, *", nil, "wildcard"},
		{"fhir example.org", nil, "spaces inside"},
		{"fhir\texample.org", nil, "spaces inside"},
		{"evil.example\n", nil, ""}, // trailing newline is only space around the entry
		{"user@fhir.example.org", nil, "user name"},
		{"fe80::1%eth0", nil, "zone"},
		{"fhir%2eexample.org", nil, "escape"},
		{"fhir.example.org?x", nil, "path"},
		{`fhir.example.org\evil`, nil, "path"},
		{"0.0.0.0", nil, "unspecified"},
		{"::", nil, "unspecified"},
		{"127.1", nil, "not a host name or an IP address"},
		{"1.2.3.4.5", nil, "not a host name or an IP address"},
		{"-bad.example", nil, "not a host name"},
		{"a..b", nil, "not a host name"},
		{"bücher.example", nil, "xn--"},
		{"ехаmple.org", nil, "xn--"}, // Cyrillic look-alikes
		{"[127.0.0.1]", nil, "IPv6 address in brackets"},
		{strings.Repeat("a", 64) + ".example", nil, "not a host name"},
	} {
		p, err := Parse(tc.list)
		switch {
		case tc.list == "evil.example\n":
			if err != nil || !slices.Equal(p.Hosts(), []string{"evil.example"}) {
				t.Errorf("Parse(%q) = %v, %v", tc.list, p.Hosts(), err)
			}
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), EnvVar) {
				t.Errorf("Parse(%q) error = %v, want one naming %s and saying %q", tc.list, err, EnvVar, tc.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", tc.list, err)
		case !slices.Equal(p.Hosts(), tc.want):
			t.Errorf("Parse(%q) = %q, want %q", tc.list, p.Hosts(), tc.want)
		}
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	listed, err := Parse("fhir.example.org, 10.1.2.3, ::1")
	if err != nil {
		t.Fatal(err)
	}
	var none *Policy // the secure default
	for _, tc := range []struct {
		p          *Policy
		url        string
		fhir, auth bool
	}{
		{none, "https://fhir4.healow.com/fhir/r4/FEIGCD", true, false},
		{none, "https://FHIR4.eClinicalWorks.com./fhir/r4/FEIGCD", true, false},
		{none, "https://staging-fhir.ecwcloud.com:443/fhir/r4/ABCDEF", true, false},
		{none, "https://oauthserver.eclinicalworks.com/oauth/oauth2/token", false, true},
		{&Policy{}, "https://oauthserver.eclinicalworks.com/oauth/oauth2/token", false, true},
		// Exact match only: no suffix, prefix or look-alike passes.
		{none, "https://evil.fhir4.healow.com/fhir/r4/X", false, false},
		{none, "https://fhir4.healow.com.evil.example/fhir/r4/X", false, false},
		{none, "https://fhir4-healow.com/fhir/r4/X", false, false},
		{none, "https://oauthserver.eclinicalworks.com@evil.example/token", false, false},
		{none, "https://127.0.0.1:8443/fhir/r4/X", false, false},
		{none, "https://169.254.169.254/latest/meta-data/", false, false},
		{none, "https://localhost/fhir", false, false},
		{none, "/relative", false, false},
		{none, "::not a url", false, false},
		{listed, "https://fhir.example.org:8443/r4", true, true},
		{listed, "https://FHIR.example.org./r4", true, true},
		{listed, "https://api.fhir.example.org/r4", false, false},
		{listed, "https://10.1.2.3/r4", true, true},
		{listed, "https://[::1]:9/r4", true, true},
		{listed, "https://[::ffff:10.1.2.3]/r4", true, true},
		{listed, "https://10.1.2.4/r4", false, false},
		{listed, "https://fhir4.healow.com/fhir/r4/X", true, false},
	} {
		for _, c := range []struct {
			role  string
			check func(string) error
			want  bool
		}{{"FHIR", tc.p.CheckFHIRBase, tc.fhir}, {"auth", tc.p.CheckAuthServer, tc.auth}} {
			err := c.check(tc.url)
			if (err == nil) != c.want {
				t.Errorf("%v %s %s: err = %v, want allowed %v", tc.p.Hosts(), c.role, tc.url, err, c.want)
			}
			if err != nil && !errors.Is(err, ErrNotAllowed) {
				t.Errorf("%s %s: %v does not wrap ErrNotAllowed", c.role, tc.url, err)
			}
		}
	}
}

// The refusals say which host, why, and how to allow it; the token endpoint's names eCW's one
// authorization server and what a user of eCW's sandbox must do.
func TestRefusalsSayWhatToDo(t *testing.T) {
	t.Parallel()
	var p *Policy
	err := p.CheckFHIRBase("https://attacker.example:8443/fhir/r4/X")
	for _, want := range []string{"attacker.example is not one of eClinicalWorks' FHIR servers", "fhir4.healow.com", "add attacker.example to HEALOW_ALLOWED_HOSTS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("FHIR refusal %v lacks %q", err, want)
		}
	}
	err = p.CheckAuthServer("https://oauth.staging.example/token")
	for _, want := range []string{"oauth.staging.example is not eClinicalWorks' authorization server (oauthserver.eclinicalworks.com)",
		"the client secret is sent only there", "sandbox (staging-fhir.ecwcloud.com)", "add oauth.staging.example to HEALOW_ALLOWED_HOSTS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("auth refusal %v lacks %q", err, want)
		}
	}
}

func TestWithAddsToACopy(t *testing.T) {
	t.Parallel()
	base, err := Parse("a.example")
	if err != nil {
		t.Fatal(err)
	}
	more, err := base.With("127.0.0.1", "A.example")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(base.Hosts(), []string{"a.example"}) || more.String() != "a.example,127.0.0.1" {
		t.Fatalf("base %v, more %v", base.Hosts(), more)
	}
	if _, err := base.With("http://x"); err == nil {
		t.Fatal("With took a URL")
	}
	var none *Policy
	if none.Listed("fhir4.healow.com") || none.String() != "" {
		t.Fatal("the nil policy lists something")
	}
}

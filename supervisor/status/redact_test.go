package status

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	const base = "https://fhir4.healow.com/fhir/r4/ABCDEF"
	for _, tc := range []struct{ in, want string }{
		{`Get "https://fhir4.healow.com/fhir/r4/ABCDEF/Observation?patient=p-123&category=laboratory": EOF`,
			`Get "https://fhir4.healow.com/fhir/r4/ABCDEF/…": EOF`},
		{"run `healow connect --name \"A\" --fhir-base-url " + base + "` again.",
			"run `healow connect --name \"A\" --fhir-base-url " + base + "` again."},
		{"see " + base + ".", "see " + base + "."},
		{"token request to https://oauth.example/token?x=p-123 failed", "token request to https://oauth.example/token failed"},
		{"Patient p-123 not found (p-123)", "Patient <patient> not found (<patient>)"},
		{"p-1234 and xp-123 are other ids", "p-1234 and xp-123 are other ids"},
		{"", ""},
	} {
		if got := redact(tc.in, base, "p-123"); got != tc.want {
			t.Errorf("redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

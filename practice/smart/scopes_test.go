package smart

import (
	"slices"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

const typoSocialHistory = "patient/Observation.rs?category=http://terminology.hl7.org//CodeSystem-observation-category|social-history"

func TestScopesECW(t *testing.T) {
	t.Parallel()
	c := ecwConfig(t, nil)
	got := Scopes(c)
	want := []string{
		"openid", "fhirUser", "offline_access", "launch/patient",
		"patient/Patient.rs",
		"patient/Encounter.rs",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
		typoSocialHistory,
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|survey",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|exam",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|imaging",
		"patient/Observation.rs?category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh",
		"patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item",
		"patient/Condition.rs?category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis",
		"patient/Condition.rs?category=http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern",
		"patient/MedicationRequest.rs",
		"patient/Medication.rs",
		"patient/AllergyIntolerance.rs",
		"patient/Immunization.rs",
		"patient/CarePlan.rs",
		"patient/CareTeam.rs",
		"patient/Coverage.rs",
		"patient/Practitioner.rs",
		"patient/Organization.rs",
		"patient/Location.rs",
		"patient/DocumentReference.rs",
		"patient/Binary.r",
		"patient/DiagnosticReport.rs",
		"patient/Procedure.rs",
		"patient/Goal.rs",
		"patient/Device.rs",
		"patient/ServiceRequest.rs",
		"patient/Provenance.rs",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Scopes(eCW) =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range got {
		if !slices.Contains(c.ScopesSupported, s) {
			t.Errorf("%q is not in scopes_supported; eCW would answer invalid_grant", s)
		}
	}
	if !slices.Equal(Scopes(c), got) {
		t.Error("Scopes is not deterministic")
	}
}

func TestScopesVariants(t *testing.T) {
	t.Parallel()
	dropCapability := func(name string) func(map[string]any) {
		return func(m map[string]any) {
			var caps []any
			for _, c := range m["capabilities"].([]any) {
				if c != name {
					caps = append(caps, c)
				}
			}
			m["capabilities"] = caps
		}
	}
	keepScopes := func(keep func(string) bool) func(map[string]any) {
		return func(m map[string]any) {
			var ss []any
			for _, s := range m["scopes_supported"].([]any) {
				if keep(s.(string)) {
					ss = append(ss, s)
				}
			}
			m["scopes_supported"] = ss
		}
	}
	tests := []struct {
		name          string
		mutate        func(map[string]any)
		contains      []string
		excludes      []string
		onlySupported bool
	}{
		{
			name:   "v1 only",
			mutate: dropCapability("permission-v2"),
			contains: []string{
				"patient/Patient.read", "patient/Encounter.read",
				"patient/Observation.read?category=http://terminology.hl7.org//CodeSystem-observation-category|social-history",
			},
			excludes:      []string{"patient/Patient.rs", "patient/Binary.r", "patient/Binary.read", typoSocialHistory},
			onlySupported: true,
		},
		{
			name:     "no scopes_supported, v2",
			mutate:   func(m map[string]any) { delete(m, "scopes_supported") },
			contains: []string{"openid", "fhirUser", "offline_access", "launch/patient", "patient/Patient.rs", "patient/Observation.rs", "patient/Condition.rs", "patient/Binary.r"},
			excludes: []string{typoSocialHistory, "patient/Binary.rs", "patient/*.rs"},
		},
		{
			name: "no scopes_supported, v1",
			mutate: func(m map[string]any) {
				delete(m, "scopes_supported")
				dropCapability("permission-v2")(m)
			},
			contains: []string{"patient/Patient.read", "patient/Observation.read", "patient/Binary.read"},
			excludes: []string{"patient/Patient.rs"},
		},
		{
			name:          "no category scopes",
			mutate:        keepScopes(func(s string) bool { return !strings.Contains(s, "?") }),
			contains:      []string{"patient/Observation.rs", "patient/Condition.rs"},
			excludes:      []string{typoSocialHistory},
			onlySupported: true,
		},
		{
			name:          "only .r category forms",
			mutate:        keepScopes(func(s string) bool { return !strings.Contains(s, ".rs?") }),
			contains:      []string{"patient/Observation.r?category=http://terminology.hl7.org//CodeSystem-observation-category|social-history"},
			excludes:      []string{"patient/Observation.rs"},
			onlySupported: true,
		},
		{
			name: "correct spelling offered",
			mutate: func(m map[string]any) {
				keepScopes(func(s string) bool { return !strings.Contains(s, "social-history") })(m)
				m["scopes_supported"] = append(m["scopes_supported"].([]any),
					"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|social-history")
			},
			contains:      []string{"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|social-history"},
			onlySupported: true,
		},
		{
			name: "identity scopes not advertised",
			mutate: keepScopes(func(s string) bool {
				return s != "offline_access" && s != "launch/patient"
			}),
			contains:      []string{"openid", "fhirUser"},
			excludes:      []string{"offline_access", "launch/patient"},
			onlySupported: true,
		},
		{
			name: "granular scopes listed: no wildcard",
			mutate: func(m map[string]any) {
				m["scopes_supported"] = append(m["scopes_supported"].([]any), "patient/*.rs", "patient/*.*")
			},
			contains: []string{"patient/Patient.rs", "patient/Binary.r"},
			excludes: []string{"patient/*.rs", "patient/*.*"},
		},
		{
			name:          "resource not advertised is left out",
			mutate:        keepScopes(func(s string) bool { return !strings.Contains(s, "/Goal.") }),
			excludes:      []string{"patient/Goal.rs", "patient/Goal.r", "patient/Goal.read"},
			onlySupported: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ecwConfig(t, tt.mutate)
			got := Scopes(c)
			for _, s := range tt.contains {
				if !slices.Contains(got, s) {
					t.Errorf("missing %q in %q", s, got)
				}
			}
			for _, s := range tt.excludes {
				if slices.Contains(got, s) {
					t.Errorf("unexpected %q in %q", s, got)
				}
			}
			seen := map[string]bool{}
			for _, s := range got {
				if seen[s] {
					t.Errorf("duplicate %q", s)
				}
				seen[s] = true
				if tt.onlySupported && !slices.Contains(c.ScopesSupported, s) {
					t.Errorf("%q is not advertised", s)
				}
			}
		})
	}
}

// A server that advertises only wildcards is asked for the narrowest one that reads; it was once
// asked for no data scope at all, and every search then failed.
func TestScopesFromWildcardsOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listed []string
		want   string
	}{
		{[]string{"openid", "profile", "fhirUser", "launch", "launch/patient", "patient/*.*", "user/*.*", "offline_access"}, "patient/*.*"},
		{[]string{"openid", "fhirUser", "launch/patient", "patient/*.read", "patient/*.rs", "patient/*.cruds", "offline_access"}, "patient/*.rs"},
		{[]string{"openid", "fhirUser", "launch/patient", "patient/*.write", "patient/*.read", "offline_access"}, "patient/*.read"},
		{[]string{"openid", "fhirUser", "launch/patient", "patient/*.cruds", "offline_access"}, "patient/*.cruds"},
		{[]string{"openid", "fhirUser", "launch/patient", "user/*.rs", "patient/*.c", "offline_access"}, ""},
		// Granular scopes for a few types, and a wildcard for the rest: both are asked for.
		{[]string{"openid", "fhirUser", "launch/patient", "patient/Patient.rs", "patient/Observation.rs", "patient/*.rs", "offline_access"},
			"patient/Patient.rs patient/Observation.rs patient/*.rs"},
	} {
		c := &Config{ScopesSupported: tc.listed, Capabilities: []string{"permission-v2"}}
		got := Scopes(c)
		var data []string
		for _, s := range got {
			if strings.Contains(s, "/") && s != "launch/patient" {
				data = append(data, s)
			}
		}
		if want := strings.Fields(tc.want); !slices.Equal(data, want) {
			t.Errorf("listed %q: asked for %q, want the data scope %q", tc.listed, got, tc.want)
		}
		for _, s := range got {
			if !slices.Contains(tc.listed, s) {
				t.Errorf("%q is not advertised", s)
			}
		}
	}
}

func TestScopesNilConfig(t *testing.T) {
	t.Parallel()
	got := Scopes(nil)
	if len(got) != len(identityScopes)+len(Resources) || got[4] != "patient/Patient.rs" || !slices.Contains(got, "patient/Binary.r") {
		t.Errorf("Scopes(nil) = %q", got)
	}
}

func TestSameSystem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"http://terminology.hl7.org//CodeSystem-observation-category", fhir.ObservationCategorySystem, true},
		{"HTTP://Terminology.HL7.org/CodeSystem/observation-category/", fhir.ObservationCategorySystem, true},
		{"https://terminology.hl7.org/CodeSystem/observation-category", fhir.ObservationCategorySystem, true},
		{"http://terminology.hl7.org/CodeSystem/condition-category", fhir.ObservationCategorySystem, false},
		{fhir.USCoreCategorySystem, fhir.ObservationCategorySystem, false},
		{fhir.USCoreConditionSystem, fhir.ConditionCategorySystem, false},
		{"", fhir.ObservationCategorySystem, false},
	}
	for _, tt := range tests {
		if got := sameSystem(tt.a, tt.b); got != tt.want {
			t.Errorf("sameSystem(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestScopeFor(t *testing.T) {
	t.Parallel()
	granted := []string{
		"openid", "launch/patient",
		"patient/Patient.rs",
		"patient/Binary.r",
		typoSocialHistory,
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Condition.read",
		"patient/Goal.c",
		"patient/Device.s",
	}
	tests := []struct {
		granted            []string
		resource, category string
		want               string
	}{
		{granted, "Patient", "", "patient/Patient.rs"},
		{granted, "Binary", "", "patient/Binary.r"},
		{granted, "Observation", "social-history", typoSocialHistory},
		{granted, "Observation", "Laboratory", "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"},
		{granted, "Observation", "vital-signs", ""},
		{granted, "Observation", "", ""},
		{granted, "Condition", "problem-list-item", "patient/Condition.read"},
		{granted, "Goal", "", ""},   // create only
		{granted, "Device", "", ""}, // search without read
		{granted, "Encounter", "", ""},
		{[]string{"patient/*.read"}, "Encounter", "", "patient/*.read"},
		{[]string{"patient/*.cruds", "patient/Encounter.r"}, "Encounter", "", "patient/Encounter.r"},
		{[]string{"user/Encounter.read"}, "Encounter", "", "user/Encounter.read"},
		{[]string{"system/Encounter.read"}, "Encounter", "", ""},
		{[]string{"patient/Observation.rs?category=http://example.org/cs|other"}, "Observation", "other", "patient/Observation.rs?category=http://example.org/cs|other"},
		{nil, "Patient", "", ""},
	}
	for _, tt := range tests {
		if got := ScopeFor(tt.granted, tt.resource, tt.category); got != tt.want {
			t.Errorf("ScopeFor(%q, %q, %q) = %q, want %q", tt.granted, tt.resource, tt.category, got, tt.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	t.Parallel()
	p, ok := parseScope("patient/Observation.rs?category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Cexam")
	if !ok || p.resource != "Observation" || p.perm != "rs" || p.code != "exam" || !sameSystem(p.system, fhir.ObservationCategorySystem) {
		t.Errorf("percent-encoded category: %+v, %v", p, ok)
	}
	for _, s := range []string{"openid", "launch/patient", "patient/.rs", "/Patient.rs", "patient/Patient."} {
		if _, ok := parseScope(s); ok {
			t.Errorf("parseScope(%q) accepted a non-resource scope", s)
		}
	}
}

package smart

import (
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

func TestScopeHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ resource, category, want string }{
		{"Immunization", "", "patient/Immunization.rs"},
		{"Binary", "", "patient/Binary.r"},
		{"Observation", "laboratory", "patient/Observation.rs?category=" + fhir.ObservationCategorySystem + "|laboratory"},
		{"Observation", "sdoh", "patient/Observation.rs?category=" + fhir.USCoreCategorySystem + "|sdoh"},
		{"Condition", "health-concern", "patient/Condition.rs?category=" + fhir.USCoreConditionSystem + "|health-concern"},
		{"Observation", "no-such", "patient/Observation.rs"},
	} {
		got := ScopeHint(tt.resource, tt.category)
		if got != tt.want {
			t.Errorf("ScopeHint(%q, %q) = %q, want %q", tt.resource, tt.category, got, tt.want)
		}
		// The hint must be a scope that ScopeFor accepts as covering the same request.
		if tt.category != "no-such" && ScopeFor([]string{got}, tt.resource, tt.category) != got {
			t.Errorf("ScopeFor does not accept its own hint %q", got)
		}
	}
}

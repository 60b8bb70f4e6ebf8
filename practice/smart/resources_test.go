package smart

import (
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// A misspelt type would match none of the scopes a server lists, and a scope built for it when
// the server lists none would be refused (eCW answers invalid_grant).
func TestResourcesAreR4Types(t *testing.T) {
	t.Parallel()
	if len(Resources) != 22 {
		t.Errorf("Resources has %d entries, want 22", len(Resources))
	}
	for _, r := range Resources {
		if !fhir.IsResourceType(r) {
			t.Errorf("Resources lists %q, which is no FHIR R4 resource type", r)
		}
	}
}

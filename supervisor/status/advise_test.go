package status

import (
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/advice"
	"github.com/healow-mcp/healow-mcp/practice"
)

// The advice healow status and practice_status give names the healow command only where it was
// installed as one: the bundle's user is sent to the tools.
func TestAdviceNamesWhatTheUserHas(t *testing.T) {
	t.Parallel()
	for _, state := range []practice.State{practice.StateNeedsReconnect, practice.StateHostNotAllowed, StateStopped} {
		h := practice.Health{Name: "Sunrise", FHIRBaseURL: "https://fhir4.healow.com/fhir/r4/FEIGCD", State: state}
		cmd, bundle := Of(h, "", advice.Command).Advice, Of(h, "", advice.Bundle).Advice
		if !strings.Contains(cmd, "healow ") {
			t.Errorf("%s, installed as a command: %q names no healow command", state, cmd)
		}
		if bundle == "" || strings.Contains(bundle, "healow ") {
			t.Errorf("%s, installed as a bundle: %q, want advice without the healow command", state, bundle)
		}
	}
}

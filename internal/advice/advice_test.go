package advice_test

import (
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/advice"
)

// Each piece of advice, for each install: the bundle's names the tool and never the command,
// which its user does not have; the command's names both.
func TestAdviceForEachInstall(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name          string
		of            func(advice.Install) string
		tool, command string
	}{
		{"reconnect", func(i advice.Install) string {
			return i.Reconnect("Sunrise", "https://fhir4.healow.com/fhir/r4/FEIGCD")
		},
			"connect_practice", "`healow connect --name \"Sunrise\" --fhir-base-url https://fhir4.healow.com/fhir/r4/FEIGCD`"},
		{"forget", func(i advice.Install) string { return i.Forget("Sunrise") }, "disconnect_practice", "`healow disconnect \"Sunrise\"`"},
		{"connect a first", advice.Install.ConnectFirst, "connect_practice", "`healow connect`"},
		{"restart", advice.Install.Restart, "MCP client", "healow serve"},
	} {
		cmd, bundle := tt.of(advice.Command), tt.of(advice.Bundle)
		if !strings.Contains(cmd, tt.tool) || !strings.Contains(cmd, tt.command) {
			t.Errorf("%s, installed as a command: %q, want %q and %q", tt.name, cmd, tt.tool, tt.command)
		}
		if !strings.Contains(bundle, tt.tool) || strings.Contains(bundle, "healow ") {
			t.Errorf("%s, installed as a bundle: %q, want %q and no healow command", tt.name, bundle, tt.tool)
		}
	}
	if got := advice.Bundle.Reconnect("Sunrise", "https://x.test/r4"); !strings.Contains(got, `name "Sunrise", fhir_base_url https://x.test/r4`) {
		t.Errorf("the bundle's reconnect advice %q does not give the tool's arguments", got)
	}
}

// HEALOW_INSTALL is bundle or unset; anything else is a mistake to report, not to guess at.
func TestParse(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]advice.Install{"": advice.Command, "bundle": advice.Bundle} {
		if got, err := advice.Parse(v); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"Bundle", "command", "mcpb"} {
		if _, err := advice.Parse(v); err == nil || !strings.Contains(err.Error(), advice.EnvVar) {
			t.Errorf("Parse(%q) = %v, want an error naming %s", v, err, advice.EnvVar)
		}
	}
}

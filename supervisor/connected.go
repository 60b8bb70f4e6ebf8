package supervisor

import (
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/vault"
)

// warnConnected tells the user, on stderr, that the MCP tools connected a practice and where it
// points: its FHIR base and the host its sign-ins and tokens go to. A prompt-injected model can
// call connect_practice and complete_oauth on its own; this line (and healow status) is how the
// user finds out. Nothing secret and no patient data: no code, token or patient id.
func (r *Registry) warnConnected(p vault.Practice) {
	r.log.Warn("a practice was connected through the MCP tools; if you did not mean to connect it, run healow disconnect",
		"practice", p.ID, "name", p.Name, "fhir_base_url", p.FHIRBaseURL, "token_endpoint_host", practice.TokenHost(p))
}

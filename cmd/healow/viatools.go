package main

import (
	"fmt"

	"github.com/healow-mcp/healow-mcp/vault"
)

// viaTools lists the practices the MCP tools connected, with where each points: a model can be
// misled into connecting one (by text in a record, say), so the user should see them and
// disconnect any they did not mean.
func (s statusRun) viaTools(r statusReport) {
	type row struct{ name, base, tokenHost string }
	var rows []row
	seen := map[string]bool{}
	for _, sv := range r.Servers {
		for _, p := range sv.Practices {
			if p.ConnectedVia == vault.ViaMCP && !seen[p.ID] {
				seen[p.ID] = true
				rows = append(rows, row{p.Name, p.FHIRBaseURL, p.TokenHost})
			}
		}
	}
	for _, p := range r.NotRunning {
		if p.ConnectedVia == vault.ViaMCP && !seen[p.ID] {
			seen[p.ID] = true
			rows = append(rows, row{p.Name, p.FHIRBaseURL, p.TokenHost})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(s.out, "\nConnected through the MCP tools (the model asked for these; disconnect any you did not mean with healow disconnect NAME):")
	tw := newTable(s.out)
	for _, p := range rows {
		fmt.Fprintf(tw, "  %s\t→ %s\t%s\n", p.name, p.base, tokenSide(p.tokenHost))
	}
	tw.Flush()
}

// tokenSide says where a practice's sign-ins and tokens go.
func tokenSide(host string) string {
	if host == "" {
		return "token endpoint not known yet"
	}
	return "token endpoint on " + host
}

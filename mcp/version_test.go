package mcp_test

import (
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// The SDK's client sees healow's version in initialize's serverInfo: the string healow version
// prints and healow status shows ("dev" in a test binary, which records no commit).
func TestServerInfoCarriesTheVersion(t *testing.T) {
	t.Parallel()
	info := connect(t, mcp.NewServer(nil)).InitializeResult().ServerInfo
	if info.Name != "healow-mcp" || info.Version != version.String() || info.Version == "" {
		t.Fatalf("serverInfo = %+v, want healow-mcp %q", info, version.String())
	}
}

package mcp

import (
	"context"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/version"
)

// ConnectInMemory joins s to an SDK client called client inside this process, over the SDK's
// in-memory transports: the whole protocol, with no stdio in between. healow demo shows the
// tools this way, and the tests drive them so. end closes both sessions.
func ConnectInMemory(ctx context.Context, s *sdk.Server, client string) (cs *sdk.ClientSession, end func(), err error) {
	st, ct := sdk.NewInMemoryTransports()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		return nil, nil, err
	}
	cs, err = sdk.NewClient(&sdk.Implementation{Name: client, Version: version.String()}, nil).Connect(ctx, ct, nil)
	if err != nil {
		ss.Close()
		return nil, nil, err
	}
	return cs, func() { cs.Close(); ss.Close() }, nil
}

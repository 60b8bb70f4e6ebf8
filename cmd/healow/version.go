package main

import (
	"context"
	"fmt"

	"github.com/healow-mcp/healow-mcp/internal/version"
)

var versionHelp = &help{
	name:     "version",
	synopsis: "print healow's version (also healow --version)",
	usage:    "healow version",
	about: "A release's version; for a build from a checkout, its commit, with -modified when the checkout " +
		"had changes; otherwise dev. MCP clients see the same as serverInfo.version, and healow status " +
		"shows it for each running server.",
	example: "healow version",
}

func runVersion(ctx context.Context, args []string) error {
	fs := versionHelp.flags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	fmt.Println(version.String())
	return nil
}

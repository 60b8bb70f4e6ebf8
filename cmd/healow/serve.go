package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"

	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

// runServe is what Claude Desktop starts: the MCP server on stdin/stdout. Logs go to stderr.
func runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := clientFromEnv()
	if err != nil {
		return err
	}
	tuning, err := tuningFromEnv()
	if err != nil {
		return err
	}
	store, err := openStore()
	if err != nil {
		return err
	}
	defer store.Close()
	// A damaged store would leave the registry unable to start, and every practice's tools
	// failing; better to refuse now, saying where it is and what to do.
	if err := store.Check(ctx); err != nil {
		return err
	}
	log := newLogger()
	slog.SetDefault(log)
	rt := newApp(c, store, vault.NewKeychain(), newHTTPClient(nil, c.hosts), tuning, log, status.SocketDir(store.Path()))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	treeDone := make(chan error, 1)
	go func() { treeDone <- rt.Tree.Serve(ctx) }()

	log.Info("serving MCP on stdio", "store", store.Path())
	// Not the SDK's StdioTransport: it ends the session at the first line that is not a message.
	// stdout carries the MCP messages and nothing else.
	err = mcp.NewServer(rt.Tree.Registry).Run(ctx, &mcp.LineTransport{In: os.Stdin, Out: os.Stdout, Logger: log})
	cancel()
	<-treeDone
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

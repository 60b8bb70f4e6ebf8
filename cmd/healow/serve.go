package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
	"github.com/healow-mcp/healow-mcp/vault"
)

var serveHelp = &help{
	name:     "serve",
	synopsis: "the MCP server on stdio, as Claude Desktop runs it",
	usage:    "healow serve",
	about: "It speaks MCP on stdin and stdout, one message a line, and logs to stderr. Practices that " +
		"healow connect connects or reconnects are served within a second, without a restart; healow " +
		"status shows this server's practices while it runs.",
	example: `healow serve
# Claude Desktop runs: "command": "/path/to/healow", "args": ["serve"], these variables in "env"`,
	env: []string{"HEALOW_CLIENT_ID", "HEALOW_CLIENT_SECRET", "HEALOW_REDIRECT_URI", "HEALOW_CALLBACK_PORT", "HEALOW_ALLOWED_HOSTS",
		"HEALOW_TOKEN_STORE", "HEALOW_DIRECTORY_URL", "HEALOW_LOG_LEVEL", "HEALOW_RATE_LIMIT", "HEALOW_REQUEST_TIMEOUT",
		"SSL_CERT_FILE"},
}

// runServe is what Claude Desktop starts: the MCP server on stdin/stdout. Logs go to stderr.
func runServe(ctx context.Context, args []string) error {
	fs := serveHelp.flags()
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
	// A token store that cannot be found is said by every tool call (see server.serve); the
	// directory lives beside it, so then there is none either.
	var dir *directory.Directory
	if path, err := vault.DefaultPath(); err == nil {
		if dir, err = newDirectory(os.Getenv(directory.EnvURL), path, nil, c.hosts); err != nil {
			return err
		}
	}
	log := newLogger()
	slog.SetDefault(log)
	s := server{
		open: openStore,
		tree: func(store *vault.Store) *supervisor.Tree {
			return newApp(c, store, vault.NewKeychain(), newHTTPClient(nil, c.hosts), tuning, log, status.SocketDir(store.Path()), dir).Tree
		},
		log:  log,
		pdfs: readPDFs(),
	}
	// Not the SDK's StdioTransport: it ends the session at the first line that is not a message.
	// stdout carries the MCP messages and nothing else.
	return s.serve(ctx, &mcp.LineTransport{In: os.Stdin, Out: os.Stdout, Logger: log})
}

// server is healow serve: the MCP server, and the store and tree behind its tools.
type server struct {
	open func() (*vault.Store, error)
	tree func(*vault.Store) *supervisor.Tree // wires the tree over the open store
	log  *slog.Logger
	pdfs mcp.Option // how PDFs' text is read (readPDFs); nil reads none
}

// serve answers the client on t from the start, since initialize and tools/list need no
// practice, while the store is opened and checked and the tree started; tool calls wait for
// them (see mcp.Loading). A store that cannot be opened fails every tool call with what to do,
// and serve returns its error, with the exit status it brings, once the client is done.
func (s server) serve(ctx context.Context, t sdk.Transport) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loading := mcp.NewLoading()
	loaded := make(chan error, 1)
	treeDone := make(chan struct{})
	go func() { loaded <- s.load(ctx, loading, treeDone) }()

	s.log.Info("serving MCP on stdio", "version", version.String())
	err := mcp.NewServerLoading(loading, s.pdfs).Run(ctx, t)
	// The load is waited for, not cancelled, when the client leaves: it takes moments, and a
	// store that cannot be opened must end serve with its error however short the session.
	loadErr := <-loaded
	cancel()
	if loadErr == nil {
		<-treeDone
	}
	switch {
	case loadErr != nil && !errors.Is(loadErr, context.Canceled):
		return loadErr
	case errors.Is(err, context.Canceled):
		return nil
	}
	return err
}

// load opens and checks the store, starts the tree over it until ctx ends (closing treeDone
// when the tree has stopped and the store is closed), and hands the registry to the tools.
func (s server) load(ctx context.Context, loading *mcp.Loading, treeDone chan<- struct{}) error {
	store, err := s.open()
	if err == nil {
		// A damaged store would leave the registry unable to start, and every practice's tools
		// failing obscurely; better to say at once where it is and what to do.
		if err = store.Check(ctx); err != nil {
			store.Close()
		}
	}
	if err != nil {
		loading.Done(nil, err)
		if !errors.Is(err, context.Canceled) {
			s.log.Error("healow serves no practice: the token store cannot be used", "err", err)
		}
		return err
	}
	tree := s.tree(store)
	go func() {
		defer close(treeDone)
		tree.Serve(ctx)
		store.Close()
	}()
	loading.Done(tree.Registry, nil)
	s.log.Info("serving the practices of the token store", "store", store.Path())
	return nil
}

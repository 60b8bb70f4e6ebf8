package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// serveInProcess runs healow serve's server over an in-memory transport, with open as its way
// to the store and a tree wired as the binary wires it (but to the sandbox, with secrets in
// memory). It returns the client's session once initialize is answered, and serve's outcome.
func serveInProcess(t *testing.T, env *testenv.Env, open func() (*vault.Store, error)) (*sdk.ClientSession, <-chan error) {
	t.Helper()
	hosts, err := egress.Parse(env.Sandbox.Host())
	if err != nil {
		t.Fatal(err)
	}
	c := client{id: "healow-sandbox-client", secret: "healow-sandbox-secret", redirectURI: "http://127.0.0.1:1/cb", hosts: hosts}
	log := slog.New(slog.DiscardHandler)
	s := server{
		open: open,
		tree: func(store *vault.Store) *supervisor.Tree {
			return newApp(c, store, env.Secrets, env.HTTP, practice.Options{}, log, "", nil).Tree
		},
		log: log,
	}
	st, ct := sdk.NewInMemoryTransports()
	served := make(chan error, 1)
	go func() { served <- s.serve(context.Background(), st) }()
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cs, served
}

// healow serve answers initialize and lists its tools while its store is still being opened
// (here, an open that does not return until the test lets it); a tool called meanwhile waits,
// and then sees every stored practice. Closing the session ends serve cleanly.
func TestServeAnswersBeforeTheStoreIsOpen(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	ps := env.Sandbox.Practices()
	for _, p := range ps[:2] {
		env.Connect(t, p)
	}
	release := make(chan struct{})
	cs, served := serveInProcess(t, env, func() (*vault.Store, error) {
		<-release
		return vault.Open(env.Store.Path())
	})
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(tools.Tools) < 20 {
		t.Fatalf("tools/list while the store is not open: %d tools, %v", len(tools.Tools), err)
	}
	listed := make(chan string, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "list_practices"})
		switch {
		case err != nil:
			listed <- err.Error()
		case res.IsError:
			listed <- "tool error: " + res.Content[0].(*sdk.TextContent).Text
		default:
			listed <- res.Content[0].(*sdk.TextContent).Text
		}
	}()
	close(release)
	if text := <-listed; !strings.Contains(text, ps[0].Name) || !strings.Contains(text, ps[1].Name) {
		t.Fatalf("list_practices = %s, want both practices", text)
	}
	if err := cs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve ended with %v", err)
	}
}

// A store that cannot be opened leaves initialize and tools/list working; every tool call says
// what is wrong and what to do, and serve ends with the store's error once the client is done.
func TestServeWithAStoreThatCannotBeOpened(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	refused := errors.New("the token store /x/tokens.db is damaged: move the file out of the way")
	cs, served := serveInProcess(t, env, func() (*vault.Store, error) { return nil, refused })
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "list_practices"})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*sdk.TextContent).Text, refused.Error()) {
		t.Fatalf("list_practices = %+v, %v; want a tool error saying %q", res, err, refused)
	}
	cs.Close()
	if err := <-served; !errors.Is(err, refused) {
		t.Fatalf("serve ended with %v, want the store's error", err)
	}
}

// Package testenv assembles what the tests of several packages share: the sandbox, a store on
// disk, secrets in memory, and a running supervisor tree wired to them.
package testenv

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/version"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Env is a sandbox and a running tree that reads from it.
type Env struct {
	Sandbox   *sandbox.Server
	Store     *vault.Store
	Secrets   *vault.Memory
	HTTP      *http.Client
	Tree      *supervisor.Tree
	Connector *practice.Connector
	Logger    *slog.Logger

	opts Options // what Start was given, for Beside
}

// Options adjust an Env.
type Options struct {
	Sandbox  sandbox.Options
	Practice practice.Options // Store, Secrets, OAuth and HTTP are filled in
	Logger   *slog.Logger
	// Clock, when set, is the one clock of the sandbox, the token client, the sign-ins, the tree
	// and the actors, so a test can move time for all of them at once (an *actor.Fake).
	Clock actor.Clock
	// StatusDir, when set, makes the tree answer the status protocol there.
	StatusDir string
	// Listen, when set, is where the connector's sign-ins listen for their redirect (a port the
	// test chose); without it the code is pasted, so parallel tests never meet on a port.
	Listen *smart.Loopback
}

// Start runs a sandbox and a tree until the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	clock := actor.OrReal(o.Clock)
	o.Sandbox.Now, o.Practice.Clock = clock.Now, clock
	sb, err := sandbox.Start(o.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return start(t, o, sb, filepath.Join(t.TempDir(), "tokens.db"), vault.NewMemory())
}

// Beside starts another healow process on this machine beside e, with its own tree, HTTP
// client and store handle, against e's sandbox and with e's options (it answers no status
// socket). With shareStore it opens e's store file and shares e's keychain, as a second `healow
// serve` does; otherwise it has a store and a keychain of its own (another HEALOW_TOKEN_STORE),
// so it knows nothing of e.
func (e *Env) Beside(t testing.TB, shareStore bool) *Env {
	t.Helper()
	o := e.opts
	o.StatusDir = "" // a socket is named after the process, which both would be
	if shareStore {
		return start(t, o, e.Sandbox, e.Store.Path(), e.Secrets)
	}
	return start(t, o, e.Sandbox, filepath.Join(t.TempDir(), "tokens.db"), vault.NewMemory())
}

// start runs a tree on the store at path until the test ends.
func start(t testing.TB, o Options, sb *sandbox.Server, path string, secrets *vault.Memory) *Env {
	t.Helper()
	clock := o.Practice.Clock
	store, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	client, def := o.Sandbox.Client, sandbox.DefaultClient()
	if client.ID == "" {
		client.ID, client.Secret = def.ID, def.Secret
	}
	if len(client.RedirectURIs) == 0 {
		client.RedirectURIs = def.RedirectURIs
	}
	hc := &http.Client{
		// As healow's own client: every sandbox practice is one host, and concurrent calls reuse
		// their connections rather than paying a TLS handshake each.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.CertPool(), MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 64},
		Timeout:   30 * time.Second,
	}
	// The sandbox listens on 127.0.0.1, which the secure default refuses, as healow demo allows it.
	hosts, err := egress.Parse(sb.Host())
	if err != nil {
		t.Fatal(err)
	}
	oauth := &smart.Client{HTTP: hc, ClientID: client.ID, ClientSecret: client.Secret, RedirectURI: client.RedirectURIs[0], Now: clock.Now, Hosts: hosts}
	conn := &practice.Connector{Store: store, Secrets: secrets, OAuth: oauth, States: smart.NewStates(clock), Now: clock.Now, Listen: o.Listen}
	po := o.Practice
	po.Store, po.Secrets, po.OAuth, po.HTTP = store, secrets, oauth, hc
	if po.Logger == nil {
		po.Logger = o.Logger
	}
	// The sandbox's own directory, kept beside the store as healow keeps eCW's.
	dir, err := directory.New(directory.Options{URL: sb.DirectoryURL(), Folder: filepath.Dir(path), HTTP: hc, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	tree := supervisor.New(supervisor.Options{Practice: po, Connector: conn, Directory: dir, Logger: o.Logger,
		PollInterval: 20 * time.Millisecond, StatusDir: o.StatusDir, StateEvery: 100 * time.Millisecond,
		Version: version.String()}) // as healow serve reports itself
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tree.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	<-tree.Listening()
	return &Env{Sandbox: sb, Store: store, Secrets: secrets, HTTP: hc, Tree: tree, Connector: conn, Logger: o.Logger, opts: o}
}

// Connect runs the SMART launch for a sandbox practice as the patient would, through the
// connector (not the registry), and returns what was stored.
func (e *Env) Connect(t testing.TB, p sandbox.Practice) vault.Practice {
	t.Helper()
	ctx := context.Background()
	auth, err := e.Connector.Begin(ctx, p.Name, p.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := e.Sandbox.Consent(ctx, auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.Connector.Complete(ctx, redirect, "")
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

// Actor has the registry read the store now (it would at its next poll) and returns the
// practice's actor.
func (e *Env) Actor(t testing.TB, key string) *practice.Actor {
	t.Helper()
	ctx := context.Background()
	if err := e.Tree.Registry.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := e.Tree.Registry.Lookup(ctx, key)
	if err != nil {
		t.Fatalf("practice %q is not served: %v", key, err)
	}
	return a
}

// EarlyInTheMinute is a fake clock a few seconds past the turn of a minute: the hold after a
// 429 (until the minute turns) lasts until the test moves the clock.
func EarlyInTheMinute() *actor.Fake {
	return actor.NewFake(time.Now().Truncate(time.Minute).Add(time.Minute + 5*time.Second))
}

// RateLimit makes a's practice answer 429 and the actor hold it. The hold lasts until the minute
// turns on the actor's clock (an EarlyInTheMinute fake, which the test moves or not), so a read
// that meets it is refused at once rather than held.
func RateLimit(t testing.TB, sb *sandbox.Server, code string, a *practice.Actor, patient string) {
	t.Helper()
	sb.SetFaults(code, sandbox.Faults{TooManyRequests: true})
	ctx := context.Background()
	if _, err := a.Fetch(ctx, practice.Request{Resource: "Patient", ID: patient}); err == nil {
		t.Fatal("the practice answered through its 429s")
	}
	if h, err := a.Health(ctx); err != nil || h.State != practice.StateRateLimited {
		t.Fatalf("not rate-limited after a 429: %+v, %v", h, err)
	}
}

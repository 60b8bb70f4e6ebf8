package practice

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// world is the sandbox plus what a process keeps: its store handle and the keychain. Two worlds
// built with share() stand in for two processes on one machine.
type world struct {
	sb      *sandbox.Server
	store   *vault.Store
	secrets vault.Secrets
	opts    Options
}

// newWorld starts a sandbox; clock, when given, is the clock of the sandbox, the token client
// and the actors alike, so a test can move time for all of them (the wall clock otherwise).
func newWorld(t testing.TB, so sandbox.Options, clock ...actor.Clock) *world {
	t.Helper()
	c := actor.Real
	if len(clock) > 0 {
		c = clock[0]
	}
	so.Now = c.Now
	sb, err := sandbox.Start(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	w := newProcess(t, sb, filepath.Join(t.TempDir(), "tokens.db"), vault.NewMemory())
	w.setClock(c)
	return w
}

// states runs a sign-ins actor reading now until the test ends, as the tree or healow connect
// runs one.
func states(t testing.TB, clock actor.Clock) *smart.States {
	t.Helper()
	s := smart.NewStates(clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

func (w *world) setClock(clock actor.Clock) {
	w.opts.Clock = clock
	oauth := *w.opts.OAuth
	oauth.Now = clock.Now
	w.opts.OAuth = &oauth
}

// share opens another "process" on the same store file and keychain.
func (w *world) share(t testing.TB) *world {
	o := newProcess(t, w.sb, w.store.Path(), w.secrets)
	o.setClock(w.opts.Clock)
	return o
}

func newProcess(t testing.TB, sb *sandbox.Server, path string, secrets vault.Secrets) *world {
	t.Helper()
	store, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.CertPool()}, MaxIdleConnsPerHost: 128}}
	c := sandbox.DefaultClient()
	return &world{sb: sb, store: store, secrets: secrets, opts: Options{
		Store: store, Secrets: secrets, HTTP: hc, Holder: vault.NewID(),
		OAuth: &smart.Client{HTTP: hc, ClientID: c.ID, ClientSecret: c.Secret, RedirectURI: c.RedirectURIs[0], Hosts: localHosts},
	}}
}

// connect runs the SMART launch for sandbox practice i and returns its stored id.
func (w *world) connect(t testing.TB, i int) (string, sandbox.Practice) {
	t.Helper()
	p := w.sb.Practices()[i]
	conn := &Connector{Store: w.store, Secrets: w.secrets, OAuth: w.opts.OAuth, States: states(t, w.opts.Clock), Now: w.opts.Clock.Now}
	ctx := context.Background()
	auth, err := conn.Begin(ctx, p.Name, p.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := w.sb.Consent(ctx, auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := conn.Complete(ctx, redirect, "")
	if err != nil {
		t.Fatal(err)
	}
	return stored.ID, p
}

// serve starts an actor for id with w's options, adjusted by tweak, until the test ends.
func (w *world) serve(t testing.TB, id string, tweak func(*Options)) *Actor {
	t.Helper()
	o := w.opts
	if tweak != nil {
		tweak(&o)
	}
	a := New(id, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

func patientRead(p sandbox.Practice) Request { return Request{Resource: "Patient", ID: p.PatientID} }

// newClock is a fake clock that reads the wall clock's time now and moves when the test moves it.
func newClock() *actor.Fake { return actor.NewFake(time.Now()) }

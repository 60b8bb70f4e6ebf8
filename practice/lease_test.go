package practice

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// A token request slower than the refresh lease keeps its lease and its grant: the lease is
// renewed while the request is out and the request is not cancelled when LeaseTTL passes, so
// the practice's rotated refresh token is stored, and a second process (a second store handle
// and actor on the same file and keychain) waits instead of spending the old refresh token, then
// adopts the new access token. The token endpoint holds the first request until the lease has
// been renewed four times, over a third of LeaseTTL each: past the time it would have lapsed.
func TestSlowTokenRequestKeepsItsLease(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	arrived := make(chan int32, 8)
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // a test that failed early must not leave the handler waiting
	var calls int32
	mux := http.NewServeMux()
	mux.Handle("/", f.srv.Config.Handler)
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		calls++
		n := calls
		f.mu.Unlock()
		arrived <- n
		if n == 1 {
			<-release
		}
		f.token(w, r)
	})
	f.srv.Config.Handler = mux

	// Long enough that a renewal, due every third of it, is never late on a loaded machine.
	const ttl = time.Second
	renewed := make(chan struct{}, 64)
	expired := time.Now().Add(-time.Minute) // both processes refresh as they start
	a := startActor(t, f, expired, func(o *Options) {
		// The lease is kept in the store on its wall clock, which another process shares: the
		// renewals run on it too.
		o.Clock = actor.Real
		o.LeaseTTL, o.Holder = ttl, "process-a"
		o.onLeaseRenewed = func() { renewed <- struct{}{} }
	})
	if n := <-arrived; n != 1 {
		t.Fatalf("first token request is number %d", n)
	}

	// The second process, on its own handle of the same file.
	store, err := vault.Open(a.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b := New(a.actor.ID(), Options{Store: store, Secrets: a.secrets, HTTP: f.srv.Client(), OAuth: a.actor.opts.OAuth,
		LeaseTTL: ttl, Holder: "process-b"})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { b.Serve(ctx); close(served) }()
	t.Cleanup(func() { cancel(); <-served })

	for renewals := 0; renewals < 4; {
		select {
		case <-renewed:
			renewals++
		case n := <-arrived:
			t.Fatalf("token request %d went out while the first was still out: the lease was lost", n)
		case <-time.After(30 * time.Second):
			t.Fatal("the lease was never renewed")
		}
	}
	free()

	for name, actor := range map[string]*Actor{"first": a.actor, "second": b} {
		if _, err := actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"}); err != nil {
			t.Fatalf("the %s process cannot read after the slow refresh: %v", name, err)
		}
	}
	f.mu.Lock()
	newest, total := f.refresh, calls
	f.mu.Unlock()
	if total != 1 {
		t.Fatalf("%d token requests; want the first alone, the second process adopting its token", total)
	}
	if stored, err := a.secrets.Get(a.actor.ID(), vault.RefreshToken); err != nil || stored != newest {
		t.Fatalf("stored refresh token %q (%v), want the rotated %q", stored, err, newest)
	}
	if hl, err := a.actor.Health(context.Background()); err != nil || hl.State != StateReady || hl.RefreshCount != 1 {
		t.Fatalf("first process after the refresh: %+v, %v", hl, err)
	}
}

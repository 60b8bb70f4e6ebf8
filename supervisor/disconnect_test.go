package supervisor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

// Disconnecting through the registry forgets the practice and stops its actor at once; the
// sandbox, like eCW, offers no revocation endpoint, and the result says so.
func TestDisconnectDropsTheActorAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	ps := env.Sandbox.Practices()
	gone, kept := env.Connect(t, ps[0]), env.Connect(t, ps[1])
	a := env.Actor(t, gone.ID)
	env.Actor(t, kept.ID)
	ctx := context.Background()
	events, stop := env.Tree.Registry.Events().Subscribe(16)
	defer stop()
	d, err := env.Tree.Registry.Disconnect(ctx, strings.ToUpper(gone.Name))
	if err != nil {
		t.Fatal(err)
	}
	// Whoever keeps something of the practice hears of it before Disconnect returns.
	for removed := false; !removed; {
		select {
		case e := <-events:
			removed = e.Removed && e.Practice == gone.ID
			if e.Removed && e.Practice != gone.ID {
				t.Fatalf("removal of the wrong practice: %+v", e)
			}
		default:
			t.Fatal("no removal event was published by the time Disconnect returned")
		}
	}
	if d.ID != gone.ID || d.Revoked || !strings.Contains(d.Revocation, "no token revocation endpoint") {
		t.Fatalf("Disconnect = %+v", d)
	}
	if _, err := env.Tree.Registry.Lookup(ctx, gone.ID); !errors.Is(err, supervisor.ErrUnknownPractice) {
		t.Fatalf("the actor is still served: %v", err)
	}
	if _, err := a.Health(ctx); !errors.Is(err, practice.ErrStopped) {
		t.Fatalf("the old actor still answers: %v", err)
	}
	for _, kind := range []vault.SecretKind{vault.AccessToken, vault.RefreshToken} {
		if _, err := env.Secrets.Get(gone.ID, kind); !errors.Is(err, vault.ErrSecretNotFound) {
			t.Fatalf("%s survived: %v", kind, err)
		}
	}
	if _, err := env.Store.Get(ctx, gone.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("the row survived: %v", err)
	}
	if _, err := env.Tree.Registry.Lookup(ctx, kept.ID); err != nil {
		t.Fatalf("the other practice went too: %v", err)
	}
	_, err = env.Tree.Registry.Disconnect(ctx, gone.Name)
	if !errors.Is(err, supervisor.ErrUnknownPractice) || !strings.Contains(err.Error(), kept.Name) {
		t.Fatalf("disconnecting twice: %v", err)
	}
}

// revocationServer is an OAuth server with a token and a revocation endpoint that records what
// it was sent.
type revocationServer struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
	users []string
}

func newRevocationServer(t *testing.T) *revocationServer {
	rs := &revocationServer{}
	rs.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		user, pass, _ := r.BasicAuth()
		rs.mu.Lock()
		rs.forms = append(rs.forms, r.PostForm)
		rs.users = append(rs.users, user+":"+pass)
		rs.mu.Unlock()
	}))
	t.Cleanup(rs.Close)
	return rs
}

func storedWithConfig(t *testing.T, store *vault.Store, secrets vault.Secrets, cfg map[string]any) vault.Practice {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	p := vault.Practice{ID: vault.NewID(), Name: "Revocable", FHIRBaseURL: "https://fhir.example/r4/ABCDEF", PatientID: "p1",
		SMARTConfig: raw, SMARTFetchedAt: time.Now()}
	if err := store.Save(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	secrets.Set(p.ID, vault.RefreshToken, "refresh-"+p.ID)
	secrets.Set(p.ID, vault.AccessToken, "access-"+p.ID)
	return p
}

// A practice that offers RFC 7009 revocation is asked to revoke the refresh token with the
// client's credentials, but only at an https endpoint beside its token endpoint.
func TestDisconnectRevokesWhereOffered(t *testing.T) {
	t.Parallel()
	rs := newRevocationServer(t)
	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	secrets := vault.NewMemory()
	local, _ := egress.Parse("127.0.0.1")
	oauth := &smart.Client{HTTP: rs.Client(), ClientID: "the client", ClientSecret: "s3cret&", Hosts: local}
	cfg := func(revocation string) map[string]any {
		return map[string]any{
			"authorization_endpoint": rs.URL + "/authorize", "token_endpoint": rs.URL + "/token",
			"revocation_endpoint": revocation, "code_challenge_methods_supported": []string{"S256"},
		}
	}
	ctx := context.Background()

	p := storedWithConfig(t, store, secrets, cfg(rs.URL+"/revoke"))
	d, err := supervisor.Disconnect(ctx, store, secrets, oauth, p.Name)
	if err != nil || !d.Revoked {
		t.Fatalf("Disconnect = %+v, %v", d, err)
	}
	rs.mu.Lock()
	form, user := rs.forms[0], rs.users[0]
	rs.mu.Unlock()
	if form.Get("token") != "refresh-"+p.ID || form.Get("token_type_hint") != "refresh_token" || user != url.QueryEscape("the client")+":"+url.QueryEscape("s3cret&") {
		t.Fatalf("revocation request: %v as %q", form, user)
	}
	if _, err := secrets.Get(p.ID, vault.RefreshToken); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatal("the refresh token survived")
	}

	// Elsewhere than the token endpoint's server: the secret is not sent, the practice still goes.
	other := newRevocationServer(t)
	p = storedWithConfig(t, store, secrets, cfg(other.URL+"/revoke"))
	d, err = supervisor.Disconnect(ctx, store, secrets, oauth, p.ID)
	if err != nil || d.Revoked || !strings.Contains(d.Revocation, "not on the token endpoint's server") {
		t.Fatalf("cross-origin: %+v, %v", d, err)
	}
	if len(other.forms) != 0 {
		t.Fatal("the secret went to another server")
	}
	if _, err := store.Get(ctx, p.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Fatal("the row survived")
	}

	// On a host the policy does not allow (here, with the default policy): the secret and the
	// refresh token are not sent, the practice still goes, and the result says why.
	p = storedWithConfig(t, store, secrets, cfg(rs.URL+"/revoke"))
	strict := *oauth
	strict.Hosts = nil
	d, err = supervisor.Disconnect(ctx, store, secrets, &strict, p.ID)
	if err != nil || d.Revoked || !strings.Contains(d.Revocation, "HEALOW_ALLOWED_HOSTS") || !strings.Contains(d.Revocation, "127.0.0.1") {
		t.Fatalf("host not allowed: %+v, %v", d, err)
	}
	rs.mu.Lock()
	n := len(rs.forms)
	rs.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d revocation requests, want only the first", n)
	}
	if _, err := store.Get(ctx, p.ID); !errors.Is(err, vault.ErrNotFound) {
		t.Fatal("the row survived")
	}
}

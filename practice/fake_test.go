package practice

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// localHosts allows the address of the fakes and the sandbox (127.0.0.1), which the secure
// default refuses.
var localHosts, _ = egress.Parse("127.0.0.1")

// fakeECW is a TLS stand-in for one eCW practice whose behaviour each test sets: it issues
// single-use refresh tokens and accepts only the newest access token.
type fakeECW struct {
	srv *httptest.Server

	mu       sync.Mutex
	access   string
	refresh  string
	n        int
	revoked  bool
	ttl      time.Duration
	fhirHold chan struct{} // when set, FHIR requests wait on it
	held     chan struct{} // when set, told as each held request arrives
	tokenURL string        // when set before the actor starts, the token endpoint its configuration names

	tokenCalls atomic.Int32
	fhirCalls  atomic.Int32

	// records, when set, answers the FHIR requests a valid token makes (see internal/fhirfake).
	records http.Handler
}

func newFakeECW(t *testing.T) *fakeECW {
	t.Helper()
	f := &fakeECW{access: "access-0", refresh: "refresh-0", ttl: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/r4/TEST/.well-known/smart-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.config())
	})
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /fhir/r4/TEST/", f.fhir)
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short at Close are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeECW) base() string { return f.srv.URL + "/fhir/r4/TEST" }

func (f *fakeECW) config() []byte {
	token := f.srv.URL + "/oauth/token"
	if f.tokenURL != "" {
		token = f.tokenURL
	}
	b, _ := json.Marshal(map[string]any{
		"issuer":                                f.base(),
		"authorization_endpoint":                f.srv.URL + "/oauth/authorize",
		"token_endpoint":                        token,
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"capabilities":                          []string{"permission-v2", "launch-standalone"},
	})
	return b
}

func (f *fakeECW) token(w http.ResponseWriter, r *http.Request) {
	f.tokenCalls.Add(1)
	id, secret, ok := r.BasicAuth()
	if !ok || id != "client" || secret != "secret" {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked || r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != f.refresh {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token is not valid"}`)
		return
	}
	f.n++
	f.access, f.refresh = fmt.Sprintf("access-%d", f.n), fmt.Sprintf("refresh-%d", f.n)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": f.access, "token_type": "Bearer", "expires_in": int(f.ttl.Seconds()),
		"refresh_token": f.refresh, "scope": "patient/Patient.rs",
	})
}

func (f *fakeECW) fhir(w http.ResponseWriter, r *http.Request) {
	f.fhirCalls.Add(1)
	f.mu.Lock()
	hold, held, want := f.fhirHold, f.held, "Bearer "+f.access
	f.mu.Unlock()
	if hold != nil {
		if held != nil {
			held <- struct{}{}
		}
		<-hold
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	if r.Header.Get("Authorization") != want {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"token not valid"}]}`)
		return
	}
	if f.records != nil {
		f.records.ServeHTTP(w, r)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/fhir/r4/TEST/")
	if rest == "metadata" {
		json.NewEncoder(w).Encode(capabilityStatement(ecwSearchParams))
		return
	}
	fmt.Fprintf(w, `{"resourceType":"Bundle","path":%q,"query":%q}`, rest, r.URL.RawQuery)
}

// capabilityStatement declares params for each type, as a practice's /metadata does.
func capabilityStatement(params map[string][]string) map[string]any {
	var res []any
	for typ, names := range params {
		var sp []any
		for _, n := range names {
			sp = append(sp, map[string]any{"name": n})
		}
		res = append(res, map[string]any{"type": typ, "searchParam": sp})
	}
	return map[string]any{"resourceType": "CapabilityStatement", "rest": []any{map[string]any{"resource": res}}}
}

// harness is an actor for one practice of a fakeECW, with a store on disk and secrets in memory.
type harness struct {
	actor   *Actor
	store   *vault.Store
	secrets *vault.Memory
	ecw     *fakeECW
	clock   actor.Clock
	events  <-chan Event // what the actor published since it started
}

// await returns the first event the actor publishes that matches, failing after 10 s.
func (h *harness) await(t *testing.T, what string, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(10 * time.Second) // a guard: the event comes at once or never
	for {
		select {
		case e := <-h.events:
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("no event: %s", what)
		}
	}
}

// startActor stores a practice whose access token expires at expiry and serves its actor.
func startActor(t *testing.T, f *fakeECW, expiry time.Time, tweak func(*Options)) *harness {
	t.Helper()
	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secrets := vault.NewMemory()
	ctx := context.Background()
	id := vault.NewID()
	if err := store.Save(ctx, vault.Practice{ID: id, Name: "Test Practice", FHIRBaseURL: f.base(), PatientID: "pat-1",
		TokenExpiry: expiry, SMARTConfig: f.config(), SMARTFetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	access, refresh := f.access, f.refresh
	f.mu.Unlock()
	if err := secrets.Set(id, vault.AccessToken, access); err != nil {
		t.Fatal(err)
	}
	if err := secrets.Set(id, vault.RefreshToken, refresh); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Store: store, Secrets: secrets, HTTP: f.srv.Client(), Clock: newClock(),
		OAuth: &smart.Client{HTTP: f.srv.Client(), ClientID: "client", ClientSecret: "secret", RedirectURI: "https://app.example/cb", Hosts: localHosts},
	}
	if tweak != nil {
		tweak(&opts)
	}
	if opts.Events == nil {
		opts.Events = &actor.Bus[Event]{}
	}
	events, unsubscribe := opts.Events.Subscribe(256)
	t.Cleanup(unsubscribe)
	a := New(id, opts)
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { a.Serve(ctx); close(served) }()
	t.Cleanup(func() { cancel(); <-served })
	return &harness{actor: a, store: store, secrets: secrets, ecw: f, clock: a.opts.Clock, events: events}
}

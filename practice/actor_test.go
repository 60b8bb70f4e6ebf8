package practice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/vault"
)

func TestFetchReadsWithStoredToken(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	resp, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"path":"Patient/pat-1"`) {
		t.Fatalf("body = %s", resp.Body)
	}
	if n := f.tokenCalls.Load(); n != 0 {
		t.Fatalf("token endpoint called %d times with a valid token", n)
	}
}

func TestSearchIsScopedToThePatient(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	resp, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation",
		Params: map[string][]string{"category": {"laboratory"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"query":"category=laboratory&patient=pat-1"`) {
		t.Fatalf("body = %s", resp.Body)
	}
}

// Many callers meeting an expired token cause exactly one refresh; the new refresh token is in
// the keychain and the new expiry in the store.
func TestExpiredTokenRefreshesOnceForManyCallers(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(-time.Minute), func(o *Options) { o.RefreshBefore = time.Nanosecond })
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"}); err != nil {
				t.Error(err)
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times, want 1", n)
	}
	if rt, _ := h.secrets.Get(h.actor.ID(), vault.RefreshToken); rt != "refresh-1" {
		t.Fatalf("stored refresh token = %q, want the rotated one", rt)
	}
	p, err := h.store.Get(context.Background(), h.actor.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !p.TokenExpiry.After(h.clock.Now().Add(50 * time.Minute)) {
		t.Fatalf("stored expiry %v was not moved forward", p.TokenExpiry)
	}
}

// A 401 on a token the actor believed valid leads to one refresh and one retry.
func TestUnauthorizedRefreshesAndRetriesOnce(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	f.mu.Lock()
	f.access = "revoked-by-server" // the stored token no longer works
	f.mu.Unlock()
	if _, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.tokenCalls.Load(), int32(1); got != want {
		t.Fatalf("token calls = %d, want %d", got, want)
	}
	if got, want := f.fhirCalls.Load(), int32(2); got != want {
		t.Fatalf("FHIR calls = %d, want %d (the 401 and the retry)", got, want)
	}
}

func TestRevokedGrantNeedsReconnect(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	f.revoked = true
	h := startActor(t, f, time.Now().Add(-time.Minute), nil)
	ctx := context.Background()
	_, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-1"})
	if !errors.Is(err, ErrNeedsReconnect) || !strings.Contains(err.Error(), "healow connect --name") {
		t.Fatalf("err = %v, want ErrNeedsReconnect with the command to run", err)
	}
	calls := f.tokenCalls.Load()
	if _, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-1"}); !errors.Is(err, ErrNeedsReconnect) {
		t.Fatalf("second fetch err = %v", err)
	}
	if f.tokenCalls.Load() != calls {
		t.Fatal("the actor kept trying to refresh a revoked grant")
	}
	hl, err := h.actor.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hl.State != StateNeedsReconnect || hl.LastError == "" {
		t.Fatalf("health = %+v", hl)
	}
	if rt, _ := h.secrets.Get(h.actor.ID(), vault.RefreshToken); rt != "refresh-0" {
		t.Fatalf("the stored refresh token was lost: %q", rt)
	}
}

// Neither a next link nor a redirect takes the token outside the practice's base.
func TestTokenNeverLeavesTheBase(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(other.Close)
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	ctx := context.Background()
	for _, next := range []string{
		other.URL + "/fhir/r4/TEST/Observation?page=2",
		f.srv.URL + "/fhir/r4/OTHER/Observation?page=2",
		f.srv.URL + "/fhir/r4/TEST/../OTHER/Observation",
		strings.Replace(f.base(), "https://", "http://", 1) + "/Observation",
		"/fhir/r4/TEST/Observation?page=2",
	} {
		if _, err := h.actor.Fetch(ctx, Request{Next: next}); err == nil {
			t.Errorf("next %q was followed", next)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("another origin received %d requests", n)
	}
	if n := f.fhirCalls.Load(); n != 0 {
		t.Fatalf("%d requests were sent for refused links", n)
	}
	// A next link inside the base is followed.
	resp, err := h.actor.Fetch(ctx, Request{Next: f.base() + "/Observation?patient=pat-1&_page=2"})
	if err != nil || !strings.Contains(string(resp.Body), "_page=2") {
		t.Fatalf("inside link: %v %s", err, resp.Body)
	}
}

func TestRedirectAwayFromBaseIsNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(other.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	f := newFakeECW(t)
	f.srv.Config.Handler = mux
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	_, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"})
	if err == nil || !strings.Contains(err.Error(), "refusing a redirect") {
		t.Fatalf("err = %v", err)
	}
	if elsewhere.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
}

// A redirect out of the base is the practice's refusal, not its failure: it is not retried, the
// circuit breaker does not count it (so five of them leave a breaker that opens after two
// failures closed), and the error says "redirect" and that the token was not sent there.
func TestRefusedRedirectIsNotRetriedNorCounted(t *testing.T) {
	t.Parallel()
	var elsewhere, redirected atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(other.Close)
	f := hostileECW(t, map[string]http.HandlerFunc{
		"Observation": func(w http.ResponseWriter, r *http.Request) {
			redirected.Add(1)
			http.Redirect(w, r, other.URL+"/fhir/r4/TEST/Observation?patient=pat-1", http.StatusFound)
		},
	})
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) { o.BreakerFailures = 2 })
	for i := range 5 {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: "Observation"})
		if err == nil || !strings.Contains(err.Error(), "refusing a redirect to https://127.0.0.1") ||
			!strings.Contains(err.Error(), "the access token was not sent there") || !errors.Is(err, ErrOutsideBase) {
			t.Fatalf("call %d: err = %v", i, err)
		}
		if strings.Contains(err.Error(), "pat-1") {
			t.Fatalf("the error names the patient: %v", err)
		}
	}
	if n := redirected.Load(); n != 5 {
		t.Fatalf("the practice was asked %d times for 5 calls: refused redirects were retried", n)
	}
	if elsewhere.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	hl, err := h.actor.Health(context.Background())
	if err != nil || hl.Breaker != "closed" || hl.BreakerFailures != 0 || hl.Retries != 0 || hl.State != StateReady {
		t.Fatalf("health after 5 refused redirects: %+v, %v", hl, err)
	}
	stillHealthy(t, h)
}

// Health is answered from the actor's state while a request is still out.
func TestHealthAnswersWhileRequestsAreInFlight(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	release, held := make(chan struct{}), make(chan struct{}, 1)
	f.fhirHold, f.held = release, held
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	done := make(chan error, 1)
	go func() {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"})
		done <- err
	}()
	<-held
	hl, err := h.actor.Health(context.Background())
	if err != nil || hl.InFlight != 1 || f.fhirCalls.Load() != 1 || hl.State != StateReady || hl.Name != "Test Practice" {
		t.Fatalf("health while the request is out = %+v, %v", hl, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hl, _ = h.actor.Health(context.Background())
	if hl.InFlight != 0 || hl.Succeeded != 1 || hl.LastStatus != 200 {
		t.Fatalf("after: %+v", hl)
	}
}

func TestProactiveRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(30*time.Second), nil) // inside the 60 s margin
	h.await(t, "a proactive refresh", func(e Event) bool { return e.Refreshed })
	if _, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"}); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("token calls = %d", n)
	}
}

func TestFHIRErrorsSayWhatHappened(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","diagnostics":"operation not supported for the selected scope"}]}`))
	})
	f := newFakeECW(t)
	f.srv.Config.Handler = mux
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	_, err := h.actor.Fetch(context.Background(), Request{Resource: "Coverage", ID: "c1"})
	var fe *FHIRError
	if !errors.As(err, &fe) || fe.Status != 403 ||
		!strings.Contains(err.Error(), "granted scopes do not cover") || !strings.Contains(err.Error(), "selected scope") {
		t.Fatalf("err = %v", err)
	}
}

func TestCapabilityStatementIsCached(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	for range 3 {
		resp, err := h.actor.Fetch(context.Background(), Request{Metadata: true})
		if err != nil || !strings.Contains(string(resp.Body), `"resourceType":"CapabilityStatement"`) {
			t.Fatalf("metadata: %v %s", err, resp.Body)
		}
	}
	if n := f.fhirCalls.Load(); n != 1 {
		t.Fatalf("metadata fetched %d times, want 1", n)
	}
}

// A 429 with Retry-After holds the practice for that long, then the request goes through.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"resourceType":"Patient","id":"pat-1"}`))
	})
	f := newFakeECW(t)
	f.srv.Config.Handler = mux
	dispatched := make(chan Request, 4)
	h := startActor(t, f, time.Now().Add(time.Hour), func(o *Options) { o.onDispatch = func(r Request) { dispatched <- r } })
	clock := h.clock.(*actor.Fake)
	done := make(chan error, 1)
	go func() {
		_, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"})
		done <- err
	}()
	<-dispatched
	<-dispatched // the retry, which waits out the hold: the refresh timer and the hold's
	if err := clock.WaitTimers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("retried before Retry-After's second passed: %d calls", n)
	}
	clock.Advance(2 * time.Second) // a second, and the jitter of at most one more
	if err := <-done; err != nil || calls.Load() != 2 {
		t.Fatalf("after Retry-After: %v with %d calls", err, calls.Load())
	}
}

// A practice that repeats the bare access token in its OperationOutcome puts none of it in the
// error the caller (and the model) sees.
func TestBareEchoedTokenStaysOutOfErrors(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid","diagnostics":"token %s is not valid here"}]}`, token)
	})
	f := newFakeECW(t)
	f.srv.Config.Handler = mux
	h := startActor(t, f, time.Now().Add(time.Hour), nil)
	_, err := h.actor.Fetch(context.Background(), Request{Resource: "Patient", ID: "pat-1"})
	if err == nil || strings.Contains(err.Error(), "access-0") || !strings.Contains(err.Error(), "is not valid here") {
		t.Fatalf("err = %v", err)
	}
}

// A token read from the keychain between another process's two writes of a new grant (the
// tokens, then the row) is held with the row before it. The reload that follows the row gives
// the token the row's expiry, though it is the same token.
func TestReloadTakesTheExpiryStoredWithTheTokenHeld(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	h := startActor(t, f, time.Now().Add(30*time.Minute), nil)
	ctx := context.Background()
	p, err := h.store.Get(ctx, h.actor.ID())
	if err != nil {
		t.Fatal(err)
	}
	p.TokenExpiry, p.LastRefresh = h.clock.Now().Add(2*time.Hour), h.clock.Now()
	if err := h.store.Save(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p, err = h.store.Get(ctx, h.actor.ID()); err != nil {
		t.Fatal(err)
	}
	if err := h.actor.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if hl, err := h.actor.Health(ctx); err != nil || !hl.TokenExpiry.Equal(p.TokenExpiry) {
		t.Fatalf("token expiry %v, want the row's %v (%v)", hl.TokenExpiry, p.TokenExpiry, err)
	}
	if n := f.tokenCalls.Load(); n != 0 {
		t.Fatalf("%d token requests", n)
	}
}

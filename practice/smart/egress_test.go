package smart

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/testnet"
	"github.com/healow-mcp/healow-mcp/practice/egress"
)

// A token endpoint on a host the policy does not allow never hears from the client: not the
// code, not the refresh token, not the client id and secret. The refusal names the host and
// HEALOW_ALLOWED_HOSTS; listing the host lets the same request through.
func TestTokenRequestsGoOnlyToAllowedHosts(t *testing.T) {
	t.Parallel()
	var hits, withSecret atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if _, _, ok := r.BasicAuth(); ok {
			withSecret.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"a","token_type":"Bearer","expires_in":3600,"patient":"p"}`)
	}))
	t.Cleanup(srv.Close)
	cfg := &Config{TokenEndpoint: srv.URL + "/oauth/oauth2/token"}
	ctx := context.Background()
	for _, hosts := range []*egress.Policy{nil, mustPolicy(t, "fhir.example.org, ::1")} {
		c := &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Hosts: hosts}
		_, err := c.Exchange(ctx, cfg, "made-up", testVerifier)
		_, err2 := c.Refresh(ctx, cfg, testRefresh)
		for _, err := range []error{err, err2} {
			if !errors.Is(err, egress.ErrNotAllowed) || !strings.Contains(err.Error(), "127.0.0.1") ||
				!strings.Contains(err.Error(), "HEALOW_ALLOWED_HOSTS") || !strings.Contains(err.Error(), "client secret is sent only") {
				t.Fatalf("%v: err = %v, want a refusal naming 127.0.0.1 and HEALOW_ALLOWED_HOSTS", hosts.Hosts(), err)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the refused token endpoint got %d requests (%d with the client secret)", n, withSecret.Load())
	}
	c := &Client{HTTP: srv.Client(), ClientID: testClientID, ClientSecret: testClientSecret, RedirectURI: testRedirect, Hosts: localHosts}
	if _, err := c.Refresh(ctx, cfg, testRefresh); err != nil {
		t.Fatalf("listed: %v", err)
	}
	if hits.Load() != 1 || withSecret.Load() != 1 {
		t.Fatalf("listed: %d requests, %d with the secret; want 1", hits.Load(), withSecret.Load())
	}
}

// Discovery follows no redirect to another host, even over https: that host would choose the
// token endpoint that receives the client secret.
func TestDiscoveryRefusesARedirectToAnotherHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		fmt.Fprint(w, `{"authorization_endpoint":"https://evil.example.com/a","token_endpoint":"https://evil.example.com/t","code_challenge_methods_supported":["S256"]}`)
	}))
	t.Cleanup(evil.Close)
	var names testnet.Names
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/moved/"): // the same host, another path: followed
			fmt.Fprint(w, `{"authorization_endpoint":"https://fhir.example.com/a","token_endpoint":"https://fhir.example.com/t","code_challenge_methods_supported":["S256"]}`)
		case strings.Contains(r.URL.Path, "SAME"):
			http.Redirect(w, r, "https://FHIR.example.com./moved"+r.URL.Path, http.StatusFound)
		default:
			http.Redirect(w, r, "https://evil.example.com"+r.URL.Path, http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	names.Set("fhir.example.com", srv.Listener.Addr().String())
	names.Set("evil.example.com", evil.Listener.Addr().String())
	names.Set("FHIR.example.com.", srv.Listener.Addr().String())
	hc := names.Client(srv.Client())
	_, err := Discover(context.Background(), hc, "https://fhir.example.com/fhir/r4/FEIGCD")
	if err == nil || !strings.Contains(err.Error(), "another host") || !strings.Contains(err.Error(), "evil.example.com") {
		t.Fatalf("err = %v, want a refused redirect to evil.example.com", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect to another host was followed (%d requests)", n)
	}
	cfg, err := Discover(context.Background(), hc, "https://fhir.example.com/fhir/r4/SAME")
	if err != nil || cfg.TokenEndpoint != "https://fhir.example.com/t" {
		t.Fatalf("a redirect on the same host: %+v, %v", cfg, err)
	}
}

func mustPolicy(t *testing.T, list string) *egress.Policy {
	t.Helper()
	p, err := egress.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

package smart

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// A client without a secret is a public client: its token requests carry client_id in the body
// and no Authorization header, for the code exchange and the refresh alike, and only to a
// practice that lists client-public.
func TestPublicClientTokenRequests(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h, ok := r.Header["Authorization"]; ok {
			t.Errorf("a public client sent Authorization: %q", h)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		if got := r.PostForm.Get("client_id"); got != testClientID {
			t.Errorf("client_id = %q, want %q", got, testClientID)
		}
		if r.PostForm.Has("client_secret") {
			t.Error("a public client sent client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"` + testAccess + `","token_type":"Bearer","expires_in":3600,"patient":"p1","refresh_token":"` + testRefresh + `"}`))
	}))
	t.Cleanup(srv.Close)
	c := testClient(srv, newFakeClock())
	c.ClientSecret = ""
	ctx := context.Background()
	endpoint := srv.URL + "/oauth/oauth2/token"

	closed := &Config{TokenEndpoint: endpoint, Capabilities: []string{"client-confidential-symmetric"}}
	_, err := c.Exchange(ctx, closed, testCode, testVerifier)
	if !errors.Is(err, ErrSecretRequired) || !strings.Contains(err.Error(), "HEALOW_CLIENT_SECRET") {
		t.Fatalf("Exchange at a practice without client-public: %v", err)
	}
	if _, err := c.Refresh(ctx, closed, testRefresh); !errors.Is(err, ErrSecretRequired) {
		t.Fatalf("Refresh at a practice without client-public: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("a refused public client reached the token endpoint")
	}

	open := &Config{TokenEndpoint: endpoint, Capabilities: []string{"client-public", "client-confidential-symmetric"}}
	if _, err := c.Exchange(ctx, open, testCode, testVerifier); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if _, err := c.Refresh(ctx, open, testRefresh); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d token requests, want 2", hits.Load())
	}
}

// The exchange form of a public client is the confidential one plus client_id, nothing else.
func TestPublicExchangeForm(t *testing.T) {
	t.Parallel()
	want := url.Values{"client_id": {testClientID}}
	for k, v := range exchangeForm {
		want[k] = v
	}
	var got url.Values
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"a","token_type":"Bearer","expires_in":60,"patient":"p1"}`))
	}))
	t.Cleanup(srv.Close)
	c := testClient(srv, newFakeClock())
	c.ClientSecret = ""
	if _, err := c.Exchange(context.Background(), &Config{TokenEndpoint: srv.URL + "/t", Capabilities: []string{"client-public"}}, testCode, testVerifier); err != nil {
		t.Fatal(err)
	}
	if got.Encode() != want.Encode() {
		t.Fatalf("form %s, want %s", got.Encode(), want.Encode())
	}
}

package practice

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testnet"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// A practice stored while its host was allowed, served by a process whose policy no longer
// allows it, gets no request with its token and no refresh, whether its access token is valid
// or due: every call is answered at once with what to do, and the actor neither fails nor
// restarts.
func TestNoTokenGoesToAHostNoLongerAllowed(t *testing.T) {
	t.Parallel()
	for _, expiry := range []time.Duration{time.Hour, -time.Minute} {
		f := newFakeECW(t)
		h := startActor(t, f, time.Now().Add(expiry), func(o *Options) {
			o.RefreshBefore = time.Nanosecond
			o.OAuth = &smart.Client{HTTP: f.srv.Client(), ClientID: "client", ClientSecret: "secret", RedirectURI: "https://app.example/cb"}
		})
		ctx := context.Background()
		for _, req := range []Request{{Resource: "Patient", ID: "pat-1"}, {Metadata: true}, {Resource: "Observation"}} {
			_, err := h.actor.Fetch(ctx, req)
			if !errors.Is(err, egress.ErrNotAllowed) {
				t.Fatalf("token expiring in %s: %v, want a refusal", expiry, err)
			}
			for _, want := range []string{`"Test Practice"`, "127.0.0.1 is not one of eClinicalWorks' FHIR servers", "add 127.0.0.1 to HEALOW_ALLOWED_HOSTS",
				`healow disconnect "Test Practice"`} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("the refusal %q does not say %q", err, want)
				}
			}
		}
		hl, err := h.actor.Health(ctx)
		if err != nil || hl.State != StateHostNotAllowed || hl.Restarts != 0 || !strings.Contains(hl.LastError, "HEALOW_ALLOWED_HOSTS") {
			t.Fatalf("health = %+v, %v", hl, err)
		}
		if n, m := f.fhirCalls.Load(), f.tokenCalls.Load(); n != 0 || m != 0 {
			t.Fatalf("token expiring in %s: %d FHIR requests and %d token requests reached a host no longer allowed", expiry, n, m)
		}
	}
}

// A practice whose cached SMART configuration names a token endpoint on a host that is not
// allowed (while its FHIR server is) never sends its refresh token or the client secret there:
// the refresh is refused before any request, the practice says why, and it does not try again.
func TestRefreshNeverGoesToATokenEndpointNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFakeECW(t)
	f.tokenURL = "https://auth.example.com/oauth/token"
	var names testnet.Names
	names.Set("auth.example.com", f.srv.Listener.Addr().String())
	hc := names.Client(f.srv.Client())
	h := startActor(t, f, time.Now().Add(-time.Minute), func(o *Options) {
		o.RefreshBefore = time.Nanosecond
		o.OAuth = &smart.Client{HTTP: hc, ClientID: "client", ClientSecret: "secret", RedirectURI: "https://app.example/cb", Hosts: localHosts}
	})
	ctx := context.Background()
	for i := range 3 {
		_, err := h.actor.Fetch(ctx, Request{Resource: "Patient", ID: "pat-1"})
		if !errors.Is(err, egress.ErrNotAllowed) || !strings.Contains(err.Error(), "auth.example.com is not eClinicalWorks' authorization server") ||
			!strings.Contains(err.Error(), "add auth.example.com to HEALOW_ALLOWED_HOSTS") {
			t.Fatalf("call %d: %v, want the token endpoint refused", i, err)
		}
	}
	if n := f.tokenCalls.Load(); n != 0 {
		t.Fatalf("%d token requests went to a token endpoint that is not allowed", n)
	}
	if n := f.fhirCalls.Load(); n != 0 {
		t.Fatalf("%d FHIR requests with an expired token", n)
	}
	hl, err := h.actor.Health(ctx)
	if err != nil || hl.State != StateHostNotAllowed || hl.RefreshCount != 0 || hl.TokenHost != "auth.example.com" {
		t.Fatalf("health = %+v, %v", hl, err)
	}
}

package practice

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// Without HEALOW_CLIENT_SECRET, a practice that lists client-public is connected and renewed as a
// public client: every token request names the client in its body, carries no Authorization
// header, and the registered secret goes nowhere.
func TestPublicClientConnectsAndRefreshesWithoutASecret(t *testing.T) {
	t.Parallel()
	clock := newClock()
	w := newWorld(t, sandbox.Options{}, clock)
	w.opts.OAuth.ClientSecret = ""
	rec := &wire{next: w.opts.HTTP.Transport}
	w.opts.HTTP.Transport = rec
	id, p := w.connect(t, 0)
	a := w.serve(t, id, nil)
	ctx := context.Background()
	for range 2 {
		clock.Advance(2 * time.Hour) // past the access token's hour
		if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
			t.Fatalf("a public client's practice does not answer after a refresh: %v", err)
		}
	}
	st := w.sb.Stats()
	if st.AuthCodeGrants != 1 || st.RefreshGrants != 2 || st.PublicClientRequests != 3 {
		t.Fatalf("stats %+v: want one exchange and two refreshes, all as a public client", st)
	}
	tokenRequests := 0
	for _, r := range rec.requests() {
		if r.carries(sandbox.DefaultClient().Secret) {
			t.Errorf("%s %s carries the client secret", r.method, r.url)
		}
		if r.method != http.MethodPost {
			continue
		}
		tokenRequests++
		form, _ := url.ParseQuery(r.body)
		if h := r.header.Get("Authorization"); h != "" {
			t.Errorf("a public client's token request has an Authorization header")
		}
		if form.Get("client_id") != w.opts.OAuth.ClientID || form.Has("client_secret") {
			t.Errorf("token request form has client_id %q and client_secret %v; want the client id and no secret", form.Get("client_id"), form.Has("client_secret"))
		}
	}
	if tokenRequests != 3 {
		t.Fatalf("%d token requests recorded, want 3", tokenRequests)
	}
}

// A practice that does not list client-public is refused before the patient signs in, with what
// to set; with the secret the same practice connects as ever.
func TestNoSecretNeedsClientPublic(t *testing.T) {
	t.Parallel()
	clock := newClock()
	w := newWorld(t, sandbox.Options{}, clock)
	p := w.sb.Practices()[0]
	w.sb.SetFaults(p.Code, sandbox.Faults{ConfidentialOnly: true})
	public := *w.opts.OAuth
	public.ClientSecret = ""
	conn := &Connector{Store: w.store, Secrets: w.secrets, OAuth: &public, States: states(t, clock), Now: clock.Now}
	_, err := conn.Begin(context.Background(), p.Name, p.BaseURL)
	if !errors.Is(err, smart.ErrSecretRequired) || !strings.Contains(err.Error(), "set HEALOW_CLIENT_SECRET") || !strings.Contains(err.Error(), p.BaseURL) {
		t.Fatalf("Begin without a secret at a confidential-only practice: %v; want ErrSecretRequired naming the practice and HEALOW_CLIENT_SECRET", err)
	}
	if st := w.sb.Stats(); st.AuthCodeGrants+st.RefreshGrants != 0 {
		t.Fatalf("%+v: a token request was made", st)
	}
	id, _ := w.connect(t, 0) // confidential: unchanged
	if id == "" {
		t.Fatal("no practice stored")
	}
	if st := w.sb.Stats(); st.AuthCodeGrants != 1 || st.PublicClientRequests != 0 {
		t.Fatalf("%+v: want one confidential exchange", st)
	}
}

package practice

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
)

// wire records every request this process sends, as it leaves: method, URL, headers and body,
// and the body of every answer from a token endpoint, which is where tokens come from.
type wire struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []sentRequest
}

type sentRequest struct {
	method, url string
	header      http.Header
	body        string
	tokens      string // the answer's body, for token requests
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	s := sentRequest{method: req.Method, url: req.URL.String(), header: req.Header.Clone()}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(b))
		s.body = string(b)
	}
	resp, err := w.next.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(b))
		s.tokens = string(b)
	}
	w.mu.Lock()
	w.sent = append(w.sent, s)
	w.mu.Unlock()
	return resp, err
}

func (w *wire) requests() []sentRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sentRequest(nil), w.sent...)
}

// carries reports whether secret appears anywhere in what r sent: URL, any header, or body,
// raw or encoded the ways a request encodes things.
func (r sentRequest) carries(secret string) bool {
	all := r.url + "\n" + r.body
	for k, vs := range r.header {
		all += "\n" + k + ": " + strings.Join(vs, ",")
		for _, v := range vs {
			if basic, ok := strings.CutPrefix(v, "Basic "); ok {
				if dec, err := base64.StdEncoding.DecodeString(basic); err == nil {
					all += "\n" + string(dec)
				}
			}
		}
	}
	for _, form := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		if strings.Contains(all, form) {
			return true
		}
	}
	return false
}

// Every secret goes only where it belongs, as seen on the wire through connect, reads, paging,
// documents, metadata and refreshes of two practices on one host: the client secret, codes,
// verifiers and refresh tokens only to the token endpoint, and each access token only to its
// own practice's FHIR base, never to the other practice that shares its host.
func TestSecretsGoOnlyWhereTheyBelong(t *testing.T) {
	t.Parallel()
	w := newWorld(t, sandbox.Options{})
	rec := &wire{next: w.opts.HTTP.Transport}
	w.opts.HTTP.Transport = rec // the same client carries the OAuth requests
	ctx := context.Background()
	conn := &Connector{Store: w.store, Secrets: w.secrets, OAuth: w.opts.OAuth, States: states(t, actor.Real)}
	client := sandbox.DefaultClient()
	var authorizeURLs []string
	basePatient := map[string]string{} // patient id → FHIR base
	for i, p := range w.sb.Practices()[:2] {
		auth, err := conn.Begin(ctx, p.Name, p.BaseURL)
		if err != nil {
			t.Fatal(err)
		}
		authorizeURLs = append(authorizeURLs, auth.URL)
		redirect, err := w.sb.Consent(ctx, auth.URL)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := conn.Complete(ctx, redirect, auth.State)
		if err != nil {
			t.Fatal(err)
		}
		basePatient[p.PatientID] = p.BaseURL
		a := w.serve(t, stored.ID, nil)
		readEverything(t, a, p)
		// Two refreshes: the practice stops honouring the token, then honours the new one.
		for range 2 {
			w.sb.SetFaults(p.Code, sandbox.Faults{RejectAccess: true})
			a.Fetch(ctx, patientRead(p))
			w.sb.SetFaults(p.Code, sandbox.Faults{})
			if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
				t.Fatalf("practice %d after a refresh: %v", i, err)
			}
		}
	}

	tokenEndpoint := w.sb.URL() + "/oauth/oauth2/token"
	var codes, verifiers, refreshes []string
	access := map[string]string{} // access token → the base it belongs to
	sent := rec.requests()
	for _, r := range sent {
		if r.url != tokenEndpoint {
			continue
		}
		form, _ := url.ParseQuery(r.body)
		for _, v := range []struct {
			into *[]string
			key  string
		}{{&codes, "code"}, {&verifiers, "code_verifier"}, {&refreshes, "refresh_token"}} {
			if s := form.Get(v.key); s != "" {
				*v.into = append(*v.into, s)
			}
		}
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			Patient      string `json:"patient"`
		}
		json.Unmarshal([]byte(r.tokens), &tok)
		if tok.AccessToken != "" {
			access[tok.AccessToken] = basePatient[tok.Patient]
			refreshes = append(refreshes, tok.RefreshToken)
		}
	}
	if len(codes) != 2 || len(verifiers) != 2 || len(access) != 6 {
		t.Fatalf("saw %d codes, %d verifiers and %d access tokens on the wire; want 2, 2 and 6", len(codes), len(verifiers), len(access))
	}
	onlyTo := func(what, secret string, allowed func(sentRequest) bool) int {
		t.Helper()
		n := 0
		for _, r := range sent {
			if !r.carries(secret) {
				continue
			}
			n++
			if !allowed(r) {
				t.Errorf("%s went to %s %s", what, r.method, r.url)
			}
		}
		return n
	}
	toTokenEndpoint := func(r sentRequest) bool { return r.method == http.MethodPost && r.url == tokenEndpoint }
	if onlyTo("the client secret", client.Secret, toTokenEndpoint) != 6 {
		t.Error("the client secret was not seen on the token requests: the search looks in the wrong place")
	}
	for _, s := range append(append(codes, verifiers...), refreshes...) {
		onlyTo("a code, verifier or refresh token", s, func(r sentRequest) bool {
			return toTokenEndpoint(r) && !strings.Contains(r.url, s) && !strings.Contains(strings.Join(r.header.Values("Authorization"), ""), s)
		})
	}
	for tok, base := range access {
		if base == "" {
			t.Fatal("a token response named no known patient")
		}
		if onlyTo("an access token", tok, func(r sentRequest) bool {
			_, err := InsideBase(base, r.url)
			return r.method == http.MethodGet && err == nil && r.header.Get("Authorization") == "Bearer "+tok && !strings.Contains(r.url, tok)
		}) == 0 {
			t.Errorf("access token for %s was never used", base)
		}
	}
	// The authorize URL goes to the browser, in the clear of its history: no secret, no verifier.
	for _, u := range authorizeURLs {
		for _, s := range append([]string{client.Secret}, verifiers...) {
			if strings.Contains(u, s) || strings.Contains(u, url.QueryEscape(s)) {
				t.Errorf("the authorize URL %s carries a secret", u)
			}
		}
	}
}

// readEverything reads what a tool could make the actor read: the patient, the metadata,
// several pages of a search, a document's Binary, and links that lead elsewhere.
func readEverything(t *testing.T, a *Actor, p sandbox.Practice) {
	t.Helper()
	ctx := context.Background()
	base := p.BaseURL
	if _, err := a.Fetch(ctx, patientRead(p)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fetch(ctx, Request{Metadata: true}); err != nil {
		t.Fatal(err)
	}
	req := Request{Resource: "Observation", Params: url.Values{"_count": {"5"}}}
	for page := 0; page < 3; page++ {
		resp, err := a.Fetch(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Link []struct{ Relation, URL string }
		}
		json.Unmarshal(resp.Body, &b)
		req = Request{}
		for _, l := range b.Link {
			if l.Relation == "next" {
				req = Request{Next: l.URL}
			}
		}
		if req.Next == "" {
			break
		}
	}
	resp, err := a.Fetch(ctx, Request{Resource: "DocumentReference"})
	if err != nil {
		t.Fatal(err)
	}
	var docs struct {
		Entry []struct {
			Resource struct {
				Content []struct{ Attachment struct{ URL string } }
			}
		}
	}
	json.Unmarshal(resp.Body, &docs)
	if len(docs.Entry) == 0 || len(docs.Entry[0].Resource.Content) == 0 {
		t.Fatal("no document to read")
	}
	abs, err := ResolveAttachment(base, docs.Entry[0].Resource.Content[0].Attachment.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fetch(ctx, Request{Attachment: abs, Accept: "application/fhir+json"}); err != nil {
		t.Fatal(err)
	}
	for _, elsewhere := range []string{
		strings.Replace(base, "/fhir/r4/", "/fhir/r4/X", 1) + "/Patient",
		base + "/%2e%2e/AACJCD/Patient",
		base + "/Patient/..;/../AACJCD/Patient",
		"https://evil.example/fhir/r4/" + p.Code + "/Patient",
	} {
		if _, err := a.Fetch(ctx, Request{Next: elsewhere}); err == nil {
			t.Errorf("%s was fetched", elsewhere)
		}
	}
}

package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// site is a TLS server the tree's client reaches by a host name (see testnet.Names). It counts
// every request and keeps each one's Authorization header, so a test can prove nothing came.
type site struct {
	srv  *httptest.Server
	host string
	hits atomic.Int32

	mu    sync.Mutex
	auths []string
}

func (s *site) url(path string) string { return "https://" + s.host + path }

func (s *site) authorizations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}

// newSite serves h at host for r's tree.
func newSite(t *testing.T, r *rogue, host string, h http.HandlerFunc) *site {
	t.Helper()
	s := &site{host: host}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, req.Header.Get("Authorization"))
		s.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(s.srv.Close)
	r.names.Set(host, s.srv.Listener.Addr().String())
	return s
}

// smartConfig is a smart-configuration that sends sign-ins and tokens to token.
func smartConfig(base, token string) []byte {
	b, _ := json.Marshal(map[string]any{
		"issuer": base, "authorization_endpoint": token + "/../authorize", "token_endpoint": token,
		"code_challenge_methods_supported": []string{"S256"}, "capabilities": []string{"permission-v2", "launch-standalone"},
	})
	return b
}

// The reproduction of issue 9: connect_practice with an attacker's base URL, then complete_oauth
// with a made-up code. The attacker's host is not one of eClinicalWorks' nor listed, so
// connect_practice is refused before any request reaches it, and complete_oauth has no sign-in
// to finish. Nor do internal addresses, a name for this machine or the cloud metadata service
// get a request: each is refused with the sentence that says how to allow it.
func TestConnectPracticeRefusesAnAttackersBase(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	attacker := newSite(t, r, "attacker.example.com", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(smartConfig("https://attacker.example.com/fhir/r4/EVIL", "https://attacker.example.com/oauth/token"))
	})
	for _, base := range []struct{ url, host string }{
		{attacker.url("/fhir/r4/EVIL"), "attacker.example.com"},
		{"https://169.254.169.254/latest/meta-data", "169.254.169.254"},
		{"https://metadata.google.internal/computeMetadata/v1", "metadata.google.internal"},
		{"https://localhost" + r.srv.URL[len("https://127.0.0.1"):] + "/fhir/r4/TEST", "localhost"},
		{"https://10.0.0.7/fhir/r4/TEST", "10.0.0.7"},
		{"https://[::1]/fhir/r4/TEST", "::1"},
		{"https://fhir4.healow.com.attacker.example.com/fhir/r4/EVIL", "fhir4.healow.com.attacker.example.com"},
	} {
		callErr(t, cs, "connect_practice", map[string]any{"name": "Evil", "fhir_base_url": base.url},
			base.host+" is not one of eClinicalWorks' FHIR servers", "add "+base.host+" to HEALOW_ALLOWED_HOSTS")
	}
	callErr(t, cs, "complete_oauth", map[string]any{"code": "made-up", "state": strings.Repeat("A", 43)}, "not started by this healow-mcp process")
	if n := attacker.hits.Load(); n != 0 {
		t.Fatalf("the attacker's server got %d requests (Authorization headers %q)", n, attacker.authorizations())
	}
	if n := r.tokenCalls.Load(); n != 0 {
		t.Fatalf("%d token requests", n)
	}
}

// A FHIR server the user allows whose smart-configuration names a token endpoint on a host that
// is not allowed: connect_practice refuses before the user is sent to sign in, and even a
// sign-in forced into the pending state never sends the client id and secret there.
func TestTokenEndpointElsewhereNeverGetsTheSecret(t *testing.T) {
	t.Parallel()
	r, cs := startRogueAllowing(t, "127.0.0.1, ehr.example.com")
	attacker := newSite(t, r, "attacker.example.com", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"stolen","token_type":"Bearer","expires_in":3600,"patient":"p-1","scope":"patient/*.rs"}`)
	})
	cfg := smartConfig("https://ehr.example.com/fhir/r4/EHR", attacker.url("/oauth/token"))
	ehr := newSite(t, r, "ehr.example.com", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(cfg)
	})
	callErr(t, cs, "connect_practice", map[string]any{"name": "EHR", "fhir_base_url": ehr.url("/fhir/r4/EHR")},
		"attacker.example.com is not eClinicalWorks' authorization server", "the client secret is sent only there",
		"add attacker.example.com to HEALOW_ALLOWED_HOSTS")
	if ehr.hits.Load() != 1 {
		t.Fatalf("the allowed FHIR server got %d requests, want the discovery", ehr.hits.Load())
	}

	// A pending sign-in with that configuration, as if connect_practice had not checked it.
	parsed, err := smart.ParseConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pkce, err := smart.NewPKCE()
	if err != nil {
		t.Fatal(err)
	}
	state, err := r.conn.States.Add(context.Background(), smart.Pending{PracticeName: "EHR", FHIRBase: ehr.url("/fhir/r4/EHR"), Verifier: pkce.Verifier,
		Config: parsed, Scopes: smart.Scopes(parsed), Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	callErr(t, cs, "complete_oauth", map[string]any{"code": "made-up", "state": state},
		"attacker.example.com is not eClinicalWorks' authorization server", "HEALOW_ALLOWED_HOSTS")
	if n := attacker.hits.Load(); n != 0 {
		t.Fatalf("the token endpoint on a host not allowed got %d requests, with Authorization %q", n, attacker.authorizations())
	}
	if _, err := r.conn.Store.GetByName(context.Background(), "EHR"); err == nil {
		t.Fatal("the practice was stored")
	}
}

// The smart-configuration is read only from the practice's own host: a redirect to another host
// is not followed, even over https, since that host would name the token endpoint.
func TestDiscoveryRedirectElsewhereIsNotFollowed(t *testing.T) {
	t.Parallel()
	r, cs := startRogueAllowing(t, "127.0.0.1, ehr.example.com")
	attacker := newSite(t, r, "attacker.example.com", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(smartConfig("https://ehr.example.com/fhir/r4/EHR", "https://ehr.example.com/oauth/token"))
	})
	newSite(t, r, "ehr.example.com", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, attacker.url(req.URL.Path), http.StatusFound)
	})
	callErr(t, cs, "connect_practice", map[string]any{"name": "EHR", "fhir_base_url": "https://ehr.example.com/fhir/r4/EHR"},
		"refusing the redirect", "another host, attacker.example.com")
	if n := attacker.hits.Load(); n != 0 {
		t.Fatalf("the redirect to another host was followed (%d requests)", n)
	}
}

// What the user lists is allowed: the same attacker's server, once listed, is connected to.
func TestListingAHostAllowsIt(t *testing.T) {
	t.Parallel()
	r, cs := startRogueAllowing(t, "127.0.0.1, Attacker.Example.COM.")
	attacker := newSite(t, r, "attacker.example.com", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(smartConfig("https://attacker.example.com/fhir/r4/OK", "https://attacker.example.com/oauth/token"))
	})
	var started struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	callOK(t, cs, "connect_practice", map[string]any{"name": "Listed", "fhir_base_url": attacker.url("/fhir/r4/OK")}, &started)
	if !strings.HasPrefix(started.AuthorizeURL, "https://attacker.example.com/") || attacker.hits.Load() != 1 {
		t.Fatalf("authorize_url %q after %d requests", started.AuthorizeURL, attacker.hits.Load())
	}
}

// A practice stored while its host was allowed, served by a server whose list no longer has it:
// every read tool answers with why and what to do, no request carries its token (nor a
// refresh), and the practice's state says so.
func TestPracticeOnAHostNoLongerAllowed(t *testing.T) {
	t.Parallel()
	r, cs := startRogueAllowing(t, "")
	calls := callEveryReadTool(t, cs)
	refused := 0
	for _, c := range calls {
		if c.isErr && strings.Contains(c.text, "127.0.0.1 is not one of eClinicalWorks' FHIR servers") &&
			strings.Contains(c.text, "HEALOW_ALLOWED_HOSTS") && strings.Contains(c.text, "healow disconnect") {
			refused++
		}
	}
	if refused < 20 {
		t.Fatalf("only %d of %d tools said the host is not allowed", refused, len(calls))
	}
	if n, m := r.fhirHits.Load(), r.tokenCalls.Load(); n != 0 || m != 0 {
		t.Fatalf("%d FHIR requests and %d token requests went to a host no longer allowed", n, m)
	}
	var status struct {
		Practices []struct {
			State, Advice string
			Restarts      int
		}
	}
	callOK(t, cs, "practice_status", nil, &status)
	if len(status.Practices) != 1 || status.Practices[0].State != "host-not-allowed" || status.Practices[0].Restarts != 0 ||
		!strings.Contains(status.Practices[0].Advice, "HEALOW_ALLOWED_HOSTS") {
		t.Fatalf("practice_status = %+v", status)
	}
}

// complete_oauth records the practice as connected through the MCP tools and warns on stderr
// where it points, without the code, a token or the patient.
func TestConnectingThroughToolsIsReported(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	env := testenv.Start(t, testenv.Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	cs := session(t, env)
	p := env.Sandbox.Practices()[0]
	id := connectThroughTools(t, env, cs, p)
	stored, err := env.Store.Get(context.Background(), id)
	if err != nil || stored.ConnectedVia != vault.ViaMCP {
		t.Fatalf("stored %+v, %v; want it connected via the MCP tools", stored, err)
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	var warning string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "connected through the MCP tools") {
			warning = line
		}
	}
	host := strings.TrimPrefix(env.Sandbox.URL(), "https://")
	for _, want := range []string{`name="` + p.Name + `"`, "fhir_base_url=" + p.BaseURL, "token_endpoint_host=" + host, "practice=" + id} {
		if !strings.Contains(warning, want) {
			t.Fatalf("the warning %q lacks %q (logs: %s)", warning, want, text)
		}
	}
	if strings.Contains(text, p.PatientID) || strings.Contains(text, "code=") {
		t.Fatalf("the logs hold the patient id or a code: %s", text)
	}

	// healow connect's path records itself too.
	other := env.Connect(t, env.Sandbox.Practices()[1])
	if other.ConnectedVia != vault.ViaCLI {
		t.Fatalf("connected via %q, want %q", other.ConnectedVia, vault.ViaCLI)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/vault"
)

// listeningEnv is a tree whose sign-ins listen on a loopback redirect of a free port, as healow
// serve does with HEALOW_REDIRECT_URI=http://127.0.0.1:<port>/callback.
func listeningEnv(t *testing.T, clock actor.Clock) *testenv.Env {
	t.Helper()
	return listeningEnvLogging(t, clock, nil)
}

func listeningEnvLogging(t *testing.T, clock actor.Clock, log *slog.Logger) *testenv.Env {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + l.Addr().String() + "/callback"
	l.Close()
	at, _ := smart.LoopbackOf(redirect)
	return testenv.Start(t, testenv.Options{Clock: clock, Listen: &at, Logger: log,
		Sandbox: sandbox.Options{Client: sandbox.Client{RedirectURIs: []string{redirect}}}})
}

// wire keeps every message between client and server, to prove what never passes.
type wire struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *wire) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// watchedSession joins a client with opts, speaking version ("" for the SDK's newest), to the
// server over in-memory transports, and keeps every message on the wire.
func watchedSession(t *testing.T, env *testenv.Env, opts *sdk.ClientOptions, version string) (*sdk.ClientSession, *wire) {
	t.Helper()
	ctx := context.Background()
	st, ct := sdk.NewInMemoryTransports()
	ss, err := mcp.NewServer(env.Tree.Registry).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &wire{}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, opts).Connect(ctx, &sdk.LoggingTransport{Transport: ct, Writer: w},
		&sdk.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Close() })
	return cs, w
}

type started struct {
	AuthorizeURL string `json:"authorize_url"`
	State        string `json:"state"`
	Next         string `json:"next"`
}

type finished struct {
	Status     string `json:"status"`
	Practice   string `json:"practice"`
	PracticeID string `json:"practice_id"`
	PatientID  string `json:"patient_id"`
	Next       string `json:"next"`
}

// browse plays the browser: the patient consents at the sandbox, which sends the browser to the
// redirect; it returns that address and the page healow answered there.
func browse(t *testing.T, env *testenv.Env, authorizeURL string) (redirect string, status int, page string) {
	t.Helper()
	redirect, err := env.Sandbox.Consent(context.Background(), authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	status, page = get(t, redirect)
	return redirect, status, page
}

// get fetches u as a browser does; status 0 means nothing listens there.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func codeOf(t *testing.T, redirect string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil || u.Query().Get("code") == "" {
		t.Fatalf("no code in %q", redirect)
	}
	return u.Query().Get("code")
}

// The "done when": a practice connects from an MCP client with a loopback redirect, with
// no complete_oauth call and no code in anything the client received. A request to another path
// or with another state is refused with a plain page and changes nothing.
func TestConnectWithoutPasting(t *testing.T) {
	t.Parallel()
	logs := &wire{}
	env := listeningEnvLogging(t, nil, slog.New(slog.NewTextHandler(logs, nil)))
	cs, w := watchedSession(t, env, nil, "")
	p := env.Sandbox.Practices()[0]

	var s started
	callOK(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &s)
	if !strings.Contains(s.Next, "healow receives the answer itself") || !strings.Contains(s.Next, "list_practices") {
		t.Fatalf("next = %q", s.Next)
	}
	redirect, err := env.Sandbox.Consent(context.Background(), s.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	for _, bad := range []struct {
		path, state string
		status      int
	}{
		{u.Path, "forged", http.StatusBadRequest},
		{u.Path, "", http.StatusBadRequest},
		{"/elsewhere", s.State, http.StatusNotFound},
	} {
		q := u.Query()
		q.Set("state", bad.state)
		v := *u
		v.Path, v.RawQuery = bad.path, q.Encode()
		status, page := get(t, v.String())
		if status != bad.status || strings.Contains(page, q.Get("code")) || !strings.Contains(page, "<p>") {
			t.Fatalf("%s with state %q: %d %s", bad.path, bad.state, status, page)
		}
	}

	// A malformed code with the right state is refused and leaves the sign-in waiting.
	q := u.Query()
	q.Set("code", "not a code")
	malformed := *u
	malformed.RawQuery = q.Encode()
	if status, page := get(t, malformed.String()); status != http.StatusBadRequest || !strings.Contains(page, "not connected") {
		t.Fatalf("a malformed code: %d %s", status, page)
	}

	status, page := get(t, redirect)
	if status != http.StatusOK || !strings.Contains(page, p.Name+" is connected") || !strings.Contains(page, "close this tab") {
		t.Fatalf("the browser was shown %d %s", status, page)
	}
	// No complete_oauth: the practice is served already.
	var list struct{ Practices []struct{ Name, ID string } }
	callOK(t, cs, "list_practices", nil, &list)
	if len(list.Practices) != 1 || list.Practices[0].Name != p.Name {
		t.Fatalf("list_practices = %+v", list)
	}
	// The listener closed with the sign-in: the browser's reload reaches nobody.
	if status, _ := get(t, redirect); status != 0 {
		t.Fatalf("the listener still answers after the sign-in: %d", status)
	}
	// complete_oauth with the state alone tells how it ended.
	var f finished
	callOK(t, cs, "complete_oauth", map[string]any{"state": s.State}, &f)
	if f.Status != "connected" || f.PracticeID != list.Practices[0].ID || f.PatientID != p.PatientID {
		t.Fatalf("complete_oauth = %+v", f)
	}
	if strings.Contains(w.String(), codeOf(t, redirect)) {
		t.Fatal("the authorization code passed through the MCP client")
	}
	// The user is told, as for a pasted code, that the tools connected a practice; the log
	// never holds the code.
	if !strings.Contains(logs.String(), "connected through the MCP tools") || !strings.Contains(logs.String(), `name="`+p.Name+`"`) ||
		strings.Contains(logs.String(), codeOf(t, redirect)) {
		t.Fatalf("the log: %s", logs.String())
	}
	if stored, err := env.Store.Get(context.Background(), f.PracticeID); err != nil || stored.ConnectedVia != vault.ViaMCP {
		t.Fatalf("stored %+v, %v; want it connected via the MCP tools", stored, err)
	}
}

// complete_oauth with only the state waits for the sign-in, on the actor's clock: after 45 s it
// says to ask again. A sign-in nobody finishes lapses after ten minutes: its listener closes
// and complete_oauth says it expired.
func TestSignInWaitsAndExpires(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Now())
	env := listeningEnv(t, clock)
	cs, _ := watchedSession(t, env, nil, "")
	p := env.Sandbox.Practices()[0]
	var s started
	callOK(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &s)
	if _, err := env.Connector.States.Peek(context.Background(), s.State); err != nil { // its timer is armed
		t.Fatal(err)
	}

	armed := clock.Timers()
	done := callAsync(cs, "complete_oauth", map[string]any{"state": s.State}, "")
	if err := clock.WaitTimers(context.Background(), armed+1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(45 * time.Second)
	r := <-done
	var f finished
	if r.err != nil || r.res.IsError || json.Unmarshal([]byte(r.res.Content[0].(*sdk.TextContent).Text), &f) != nil ||
		f.Status != "waiting" || !strings.Contains(f.Next, "still waiting") {
		t.Fatalf("after 45 s: %v %+v", r.err, r.res)
	}

	redirect, err := env.Sandbox.Consent(context.Background(), s.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(smart.StateTTL)
	if _, err := env.Connector.States.Peek(context.Background(), s.State); err != nil { // the lapse is handled
		t.Fatal(err)
	}
	if status, page := get(t, redirect); status != 0 {
		t.Fatalf("the listener outlived its sign-in: %d %s", status, page)
	}
	callErr(t, cs, "complete_oauth", map[string]any{"state": s.State}, "expired")
}

// A second connect_practice on the same port replaces the sign-in waiting there and says so;
// the first one's redirect is refused and changes nothing, and complete_oauth says why.
func TestSignInOnTheSamePortReplacesTheOther(t *testing.T) {
	t.Parallel()
	env := listeningEnv(t, nil)
	cs, _ := watchedSession(t, env, nil, "")
	ps := env.Sandbox.Practices()
	var first, second started
	callOK(t, cs, "connect_practice", map[string]any{"name": ps[0].Name, "fhir_base_url": ps[0].BaseURL}, &first)
	callOK(t, cs, "connect_practice", map[string]any{"name": ps[1].Name, "fhir_base_url": ps[1].BaseURL}, &second)
	if !strings.Contains(second.Next, `replaced the sign-in for "`+ps[0].Name+`"`) {
		t.Fatalf("next = %q", second.Next)
	}
	if _, status, page := browse(t, env, first.AuthorizeURL); status != http.StatusBadRequest {
		t.Fatalf("the replaced sign-in's redirect: %d %s", status, page)
	}
	callErr(t, cs, "complete_oauth", map[string]any{"state": first.State}, "later sign-in took this one's place")
	if _, status, page := browse(t, env, second.AuthorizeURL); status != http.StatusOK {
		t.Fatalf("the later sign-in: %d %s", status, page)
	}
	var f finished
	callOK(t, cs, "complete_oauth", map[string]any{"state": second.State}, &f)
	if f.Practice != ps[1].Name {
		t.Fatalf("complete_oauth = %+v", f)
	}
}

// A port another program holds: connect_practice says what to do, and nothing is left waiting.
func TestSignInPortInUse(t *testing.T) {
	t.Parallel()
	env := listeningEnv(t, nil)
	held, err := net.Listen("tcp", env.Connector.Listen.Addr)
	if err != nil {
		t.Skipf("the port was taken in between: %v", err)
	}
	defer held.Close()
	cs, _ := watchedSession(t, env, nil, "")
	p := env.Sandbox.Practices()[0]
	callErr(t, cs, "connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL},
		"cannot listen on "+env.Connector.Listen.Addr, "another program is using that port", "HEALOW_CALLBACK_PORT")
}

// A client that declares URL elicitation is asked to show the link, in the protocol it speaks:
// an input_required result for 2026-07-28, elicitation/create for 2025-11-25. The user's
// browser brings the code to the listener; neither the client nor the model sees it, and the
// client hears when the sign-in is over. A client that declares none gets the link in the result.
func TestSignInThroughURLElicitation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, version string
		declares      bool
		action        string
		asks          string // how the request for the link travels
	}{
		{"2026-07-28", "", true, "accept", `"resultType":"input_required"`},
		{"2025-11-25", "2025-11-25", true, "accept", `"method":"elicitation/create"`},
		{"declined", "2025-11-25", true, "decline", `"method":"elicitation/create"`},
		{"form elicitation only", "", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := listeningEnv(t, nil)
			p := env.Sandbox.Practices()[0]
			var (
				mu       sync.Mutex
				asked    []*sdk.ElicitParams
				redirect string
			)
			completed := make(chan string, 1)
			caps := &sdk.ClientCapabilities{Elicitation: &sdk.ElicitationCapabilities{Form: &sdk.FormElicitationCapabilities{}}}
			if tc.declares {
				caps.Elicitation.URL = &sdk.URLElicitationCapabilities{}
			}
			opts := &sdk.ClientOptions{
				Capabilities: caps,
				ElicitationHandler: func(ctx context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
					mu.Lock()
					asked = append(asked, req.Params)
					mu.Unlock()
					if tc.action == "accept" { // the client opens the link; the user consents
						r, _, _ := browse(t, env, req.Params.URL)
						mu.Lock()
						redirect = r
						mu.Unlock()
					}
					return &sdk.ElicitResult{Action: tc.action}, nil
				},
				ElicitationCompleteHandler: func(_ context.Context, req *sdk.ElicitationCompleteNotificationRequest) {
					completed <- req.Params.ElicitationID
				},
			}
			cs, w := watchedSession(t, env, opts, tc.version)
			args := map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}
			if tc.action == "decline" {
				callErr(t, cs, "connect_practice", args, "did not open the sign-in link", "decline")
				if len(asked) != 1 {
					t.Fatalf("asked %d times", len(asked))
				}
				if _, status, _ := browse(t, env, asked[0].URL); status != 0 {
					t.Fatalf("the listener of a declined sign-in answers: %d", status)
				}
				callErr(t, cs, "complete_oauth", map[string]any{"state": asked[0].ElicitationID}, "declined")
				return
			}
			var s started
			callOK(t, cs, "connect_practice", args, &s)
			mu.Lock()
			defer mu.Unlock()
			if !tc.declares {
				if len(asked) != 0 || !strings.Contains(s.Next, "Give the user authorize_url") {
					t.Fatalf("a client without URL elicitation was asked %d times; next %q", len(asked), s.Next)
				}
				return
			}
			if len(asked) != 1 || asked[0].Mode != "url" || asked[0].URL != s.AuthorizeURL || !strings.Contains(asked[0].Message, p.Name) {
				t.Fatalf("asked %+v for %+v", asked, s)
			}
			var list struct{ Practices []struct{ Name string } }
			callOK(t, cs, "list_practices", nil, &list)
			if len(list.Practices) != 1 || !strings.Contains(s.Next, "Connected") {
				t.Fatalf("after the elicitation: %+v, next %q", list, s.Next)
			}
			if id := <-completed; id != s.State {
				t.Fatalf("elicitation %q completed, want %q", id, s.State)
			}
			if strings.Contains(w.String(), codeOf(t, redirect)) {
				t.Fatal("the authorization code passed through the MCP client")
			}
			if !strings.Contains(w.String(), tc.asks) {
				t.Fatalf("no %s on the wire", tc.asks)
			}
		})
	}
}

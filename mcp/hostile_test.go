package mcp_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testnet"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/practice/smart"
	"github.com/healow-mcp/healow-mcp/supervisor"
	"github.com/healow-mcp/healow-mcp/vault"
)

const (
	rogueClientID = "healow-client"
	rogueSecret   = "rogue-client-secret-0123456789"
)

// rogue is a practice whose FHIR answers the test writes, served by a real tree, with a token
// endpoint that rotates tokens (or echoes the request), another practice on the same host and
// an unrelated host beside it, both of which must never hear from the server.
type rogue struct {
	srv, evil  *httptest.Server
	fhirHits   atomic.Int32
	otherHits  atomic.Int32
	evilHits   atomic.Int32
	tokenCalls atomic.Int32
	largest    atomic.Int64     // the largest message the client received, in bytes
	budget     *practice.Budget // the memory budget of the rogue's answers

	names testnet.Names       // host names the tree's client reaches other test servers by
	conn  *practice.Connector // the tree's, so a test can force a pending sign-in through

	mu       sync.Mutex
	answer   http.HandlerFunc // the FHIR answers
	echo     bool             // the token endpoint echoes the request into its error
	n        int
	metadata []byte   // the CapabilityStatement, when the answers do not give their own
	listed   []string // the smart-configuration's scopes_supported
	grant    string   // the scope the token endpoint grants; "" means patient/*.rs

	store *vault.Store
	stop  func() // stops the tree, which writes the audit rows still buffered
}

func (r *rogue) base() string      { return r.srv.URL + "/fhir/r4/TEST" }
func (r *rogue) otherBase() string { return r.srv.URL + "/fhir/r4/OTHER" }

func (r *rogue) set(answer http.HandlerFunc, echo bool) {
	r.mu.Lock()
	r.answer, r.echo = answer, echo
	r.mu.Unlock()
}

// tokens lists every access and refresh token the rogue has issued.
func (r *rogue) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i := 0; i <= r.n; i++ {
		out = append(out, fmt.Sprintf("access-%d-0123456789", i), fmt.Sprintf("refresh-%d-0123456789", i))
	}
	return out
}

func (r *rogue) config() []byte {
	r.mu.Lock()
	listed := r.listed
	r.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"issuer": r.base(), "authorization_endpoint": r.srv.URL + "/oauth/authorize", "token_endpoint": r.srv.URL + "/oauth/token",
		"code_challenge_methods_supported": []string{"S256"}, "capabilities": []string{"permission-v2"}, "scopes_supported": listed,
	})
	return b
}

func (r *rogue) token(w http.ResponseWriter, req *http.Request) {
	r.tokenCalls.Add(1)
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.echo {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_grant","error_description":%q}`,
			"rejected Authorization: "+req.Header.Get("Authorization")+" with "+string(body))
		return
	}
	r.n++
	grant := r.grant
	if grant == "" {
		grant = "patient/*.rs"
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("access-%d-0123456789", r.n), "token_type": "Bearer",
		"expires_in": 3600, "refresh_token": fmt.Sprintf("refresh-%d-0123456789", r.n), "scope": grant, "patient": "pat-1"})
}

// ecwCapability declares the search parameters eCW's CapabilityStatement does.
var ecwCapability = func() []byte {
	params := sandbox.SearchParams()
	params["Practitioner"] = []string{"_id", "name"}
	var res []map[string]any
	for typ, names := range params {
		var sp []map[string]string
		for _, n := range names {
			sp = append(sp, map[string]string{"name": n})
		}
		res = append(res, map[string]any{"type": typ, "interaction": []map[string]string{{"code": "read"}, {"code": "search-type"}}, "searchParam": sp})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": []any{map[string]any{"mode": "server", "resource": res}}})
	return b
}()

// startRogue serves one practice from a rogue server through a real tree and MCP server, to a
// client that, like the TypeScript SDK's, drops the connection over a message of 10 MiB. The
// rogue's address, 127.0.0.1, is an allowed host. tweak, when given, changes the practice
// options (a benchmark's budget and timeout).
func startRogue(t testing.TB, tweak ...func(*practice.Options)) (*rogue, *sdk.ClientSession) {
	t.Helper()
	return startRogueAllowing(t, "127.0.0.1", tweak...)
}

// startRogueAllowing is startRogue with HEALOW_ALLOWED_HOSTS set to allowed.
func startRogueAllowing(t testing.TB, allowed string, tweak ...func(*practice.Options)) (*rogue, *sdk.ClientSession) {
	t.Helper()
	hosts, err := egress.Parse(allowed)
	if err != nil {
		t.Fatal(err)
	}
	r := &rogue{metadata: ecwCapability, budget: practice.NewBudget(practice.DefaultBudget)}
	r.evil = httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { r.evilHits.Add(1) }))
	t.Cleanup(r.evil.Close)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/r4/TEST/.well-known/smart-configuration", func(w http.ResponseWriter, _ *http.Request) { w.Write(r.config()) })
	mux.HandleFunc("POST /oauth/token", r.token)
	mux.HandleFunc("/fhir/r4/OTHER/", func(http.ResponseWriter, *http.Request) { r.otherHits.Add(1) })
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasPrefix(req.URL.Path, "/fhir/r4/TEST/") {
			r.otherHits.Add(1)
			return
		}
		r.fhirHits.Add(1)
		r.mu.Lock()
		answer, metadata := r.answer, r.metadata
		r.mu.Unlock()
		if req.URL.Path == "/fhir/r4/TEST/metadata" && metadata != nil {
			// Searches are limited to the patient through what the statement declares.
			w.Header().Set("Content-Type", "application/fhir+json")
			w.Write(metadata)
			return
		}
		answer(w, req)
	})
	r.srv = httptest.NewUnstartedServer(mux)
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	r.srv.StartTLS()
	t.Cleanup(r.srv.Close)
	r.set(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, false)

	store, err := vault.Open(filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secrets := vault.NewMemory()
	id := vault.NewID()
	if err := store.Save(context.Background(), vault.Practice{ID: id, Name: "Rogue", FHIRBaseURL: r.base(), PatientID: "pat-1",
		Scopes: []string{"patient/*.rs"}, TokenExpiry: time.Now().Add(time.Hour), SMARTConfig: r.config(), SMARTFetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	secrets.Set(id, vault.AccessToken, "access-0-0123456789")
	secrets.Set(id, vault.RefreshToken, "refresh-0-0123456789")
	hc := r.names.Client(r.srv.Client())
	oauth := &smart.Client{HTTP: hc, ClientID: rogueClientID, ClientSecret: rogueSecret, RedirectURI: "https://app.example/cb", Hosts: hosts}
	r.conn = &practice.Connector{Store: store, Secrets: secrets, OAuth: oauth, States: smart.NewStates(nil)}
	po := practice.Options{Store: store, Secrets: secrets, HTTP: hc, OAuth: oauth,
		MaxRetries: -1, BreakerFailures: 1000, RequestTimeout: 5 * time.Second, Budget: r.budget}
	for _, f := range tweak {
		f(&po)
	}
	r.budget = po.Budget
	tree := supervisor.New(supervisor.Options{
		Practice:     po,
		Connector:    r.conn,
		PollInterval: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tree.Serve(ctx); close(done) }()
	r.store, r.stop = store, func() { cancel(); <-done }
	t.Cleanup(r.stop)
	if err := tree.Registry.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Registry.Lookup(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, ct := wireTransports(&r.largest)
	ss, err := mcp.NewServer(tree.Registry).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return r, cs
}

// toolCall is one call of a tool with the least arguments it accepts, and what came back.
type toolCall struct {
	tool  string
	text  string
	isErr bool
}

// callEveryReadTool calls every read-only tool the server lists, each with the arguments its
// schema requires, so that a tool added later is covered without being named here.
func callEveryReadTool(t *testing.T, cs *sdk.ClientSession) []toolCall {
	t.Helper()
	ctx := context.Background()
	list, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls []toolCall
	for _, tool := range list.Tools {
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			continue
		}
		var schema struct{ Required []string }
		raw, _ := json.Marshal(tool.InputSchema)
		json.Unmarshal(raw, &schema)
		args := map[string]any{}
		for _, f := range schema.Required {
			args[f] = map[string]any{"resource": "Observation", "id": "obs-1"}[f]
			if args[f] == nil {
				args[f] = "x"
			}
		}
		switch tool.Name {
		case "get_binary":
			args["id"] = "bin-1"
		case "fhir_search":
			args["resource"] = "Observation"
		}
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: tool.Name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		var text strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				text.WriteString(tc.Text + "\n")
			}
		}
		calls = append(calls, toolCall{tool.Name, text.String(), res.IsError})
	}
	return calls
}

// Every read tool meets a practice that redirects every request elsewhere: to another host, to
// another practice on the same host, to plain http. None of them is followed.
func TestRedirectsAreRefusedOnEveryToolPath(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	var n atomic.Int32
	r.set(func(w http.ResponseWriter, req *http.Request) {
		rest := strings.TrimPrefix(req.URL.RequestURI(), "/fhir/r4/TEST")
		to := []string{r.evil.URL + "/fhir/r4/TEST" + rest, r.otherBase() + rest, strings.Replace(r.base(), "https:", "http:", 1) + rest}
		http.Redirect(w, req, to[int(n.Add(1))%len(to)], []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusMovedPermanently}[int(n.Load())%3])
	}, false)
	refused := 0
	for _, c := range callEveryReadTool(t, cs) {
		if c.isErr && strings.Contains(c.text, "refusing a redirect") {
			refused++
		}
	}
	if r.evilHits.Load() != 0 || r.otherHits.Load() != 0 {
		t.Fatalf("a redirect was followed: %d requests elsewhere, %d to the other practice", r.evilHits.Load(), r.otherHits.Load())
	}
	if refused < 20 || int(r.fhirHits.Load()) < refused {
		t.Fatalf("only %d tools met a refused redirect (%d requests): the test does not reach the practice", refused, r.fhirHits.Load())
	}
}

// fullUrl, link[self], attachment URLs and references in answers are data for the model: no tool
// follows one, so a practice that points them elsewhere gets nothing fetched there.
func TestAnswersPointingElsewhereAreNeverFetched(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	evilURL := func(s string) string { return r.evil.URL + "/fhir/r4/TEST/" + s }
	r.set(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/"), "/")
		typ := parts[0]
		switch {
		case typ == "Binary":
			fmt.Fprintf(w, `{"resourceType":"Binary","contentType":"text/plain","data":%q}`, base64.StdEncoding.EncodeToString([]byte("hello")))
		case len(parts) > 1:
			fmt.Fprint(w, rogueResource(typ, parts[1], evilURL, r.otherBase()))
		default:
			entries := make([]string, 3)
			for i := range entries {
				entries[i] = fmt.Sprintf(`{"fullUrl":%q,"resource":%s,"search":{"mode":"match"}}`, evilURL(fmt.Sprintf("%s/e%d", typ, i)), rogueResource(typ, fmt.Sprintf("e%d", i), evilURL, r.otherBase()))
			}
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset","total":3,"link":[{"relation":"self","url":%q}],"entry":[%s]}`,
				evilURL(typ), strings.Join(entries, ","))
		}
	}, false)
	calls := callEveryReadTool(t, cs)
	_, docText, _ := callFull(t, cs, "get_document_reference", map[string]any{"id": "doc-1"})
	for _, u := range []string{evilURL("Binary/b1"), r.otherBase() + "/Binary/b2", "../OTHER/Binary/b3", "Binary/..%2F..%2FOTHER%2FBinary%2Fb4"} {
		callErr(t, cs, "get_binary", map[string]any{"url": u}, "outside the practice's FHIR base")
	}
	if r.evilHits.Load() != 0 || r.otherHits.Load() != 0 {
		t.Fatalf("%d requests went elsewhere and %d to the other practice", r.evilHits.Load(), r.otherHits.Load())
	}
	ok := 0
	for _, c := range calls {
		if !c.isErr {
			ok++
		}
		if c.tool == "fhir_search" && !strings.Contains(c.text, evilURL("Observation/e0")) {
			t.Errorf("fhir_search did not pass the fullUrl on as data: %.300s", c.text)
		}
	}
	if ok < 20 {
		t.Fatalf("only %d tools read the answers", ok)
	}
	if strings.Count(docText, "not readable here") != 2 || !strings.Contains(docText, `"binary_id":"b0"`) {
		t.Fatalf("get_document_reference: %s", docText)
	}
}

// rogueResource is a resource of typ whose references and attachments point elsewhere.
func rogueResource(typ, id string, evilURL func(string) string, other string) string {
	switch typ {
	case "DocumentReference":
		return fmt.Sprintf(`{"resourceType":"DocumentReference","id":%q,"subject":{"reference":%q},"content":[`+
			`{"attachment":{"contentType":"text/plain","url":"Binary/b0"}},{"attachment":{"contentType":"application/pdf","url":%q}},`+
			`{"attachment":{"contentType":"application/pdf","url":%q}}]}`, id, evilURL("Patient/pat-1"), evilURL("Binary/b1"), other+"/Binary/b2")
	case "Patient":
		return fmt.Sprintf(`{"resourceType":"Patient","id":%q,"link":[{"other":{"reference":%q}}]}`, id, evilURL("Patient/p2"))
	}
	return fmt.Sprintf(`{"resourceType":%q,"id":%q,"subject":{"reference":%q}}`, typ, id, evilURL("Patient/pat-1"))
}

// Answers that are not what they claim end each call with an error that says what was wrong,
// not an internal error, and the practice keeps answering the next call.
func TestMalformedAnswersEndInClearErrors(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	answers := map[string]string{
		"Observation":        `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation"`,
		"Condition":          `{"resourceType":"Bundle","total":"many","entry":[]}`,
		"Encounter":          `{"resourceType":"Bundle","entry":{"resource":{"resourceType":"Encounter"}}}`,
		"Procedure":          `{"resourceType":"Bundle","entry":[1,"two",null]}`,
		"Immunization":       `{"resourceType":"Bundle","entry":[{"resource":"Immunization/1"}]}`,
		"AllergyIntolerance": `{"resourceType":"Patient","id":"pat-2"}`,
		"DiagnosticReport":   `[]`,
		"CarePlan":           `{"resourceType":"Bundle","link":"next"}`,
		"Practitioner/dr-1":  `{"resourceType":"Patient","id":"pat-2","name":[{"family":"Someone-Else"}]}`,
		"Coverage":           "\xff\xfe{}",
		"Goal":               `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Goal","id":"g1"}}],"entry":[]}`,
		"Patient/pat-1":      `"Patient"`,
		"Binary/bin-1":       `{"resourceType":"Binary","contentType":"text/plain","data":12}`,
		"DocumentReference": `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"DocumentReference","id":"d1",` +
			`"subject":{"reference":"Patient/pat-1"},"content":[{"attachment":{"url":"Binary/bin-1"}}]}}]}`,
		"Device": `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Device","id":"d1"}}],"total":-3}`,
	}
	// A statement the actor reads its search parameters from, with a version that is no string.
	r.mu.Lock()
	r.metadata = bytes.Replace(ecwCapability, []byte(`"fhirVersion":"4.0.1"`), []byte(`"fhirVersion":4.01`), 1)
	r.mu.Unlock()
	healthy := false
	r.set(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		key := strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/")
		if key == "Patient/pat-1" && healthy {
			fmt.Fprint(w, `{"resourceType":"Patient","id":"pat-1"}`)
			return
		}
		fmt.Fprint(w, answers[key])
	}, false)
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"search_observation", nil, "not JSON"},
		{"search_condition", nil, "total"},
		{"search_encounter", nil, "entry"},
		{"search_procedure", nil, "entry 1 of the practice's Bundle is not a JSON object"},
		{"list_immunizations", nil, "entry 1"},
		{"list_allergies", nil, `a "Patient" where a search Bundle was expected`},
		{"search_diagnostic_report", nil, "not a JSON object"},
		{"list_care_plans", nil, "link"},
		{"get_practitioner", map[string]any{"id": "dr-1"}, `answered Practitioner/dr-1 with a Patient`},
		{"get_coverage", nil, "not JSON"},
		{"list_goals", nil, "entry"},
		{"get_patient", nil, "not a FHIR resource"},
		{"get_binary", map[string]any{"id": "bin-1"}, "data is a JSON number where a string belongs"},
		{"list_devices", nil, "total"},
		{"get_capability_statement", nil, "fhirVersion is a JSON number where a string belongs"},
	} {
		_, text, isErr := callFull(t, cs, tc.tool, tc.args)
		if !isErr || !strings.Contains(text, tc.want) || strings.Contains(text, "internal error") {
			t.Errorf("%s: error %v %q, want one that says %q", tc.tool, isErr, text, tc.want)
		}
		if m := goisms.FindString(text); m != "" {
			t.Errorf("%s: the error says %q: %s", tc.tool, m, text)
		}
	}
	healthy = true
	var me struct{ ID string }
	callOK(t, cs, "get_patient", nil, &me)
	var status struct {
		Practices []struct{ State string }
	}
	callOK(t, cs, "list_practices", nil, &status)
	if me.ID != "pat-1" || len(status.Practices) != 1 || status.Practices[0].State != "ready" {
		t.Fatalf("after the malformed answers: %+v, %+v", me, status)
	}
}

// A practice that echoes the Authorization header into its OperationOutcomes, and a token
// endpoint that echoes the whole request into error_description, get no token and not the
// client secret into anything the client receives: tool errors, list_practices, practice_status.
func TestEchoedSecretsNeverReachTheClient(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "application/fhir+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"security","diagnostics":%q}]}`,
				"request "+req.URL.RequestURI()+" with Authorization: "+req.Header.Get("Authorization"))
		}
	}
	var texts []string
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusInternalServerError, http.StatusUnauthorized} {
		r.set(echo(status), false)
		_, text, isErr := callFull(t, cs, "get_patient", nil)
		if !isErr || !strings.Contains(text, "with Authorization: Bearer") {
			t.Fatalf("HTTP %d: %v %q, want the practice's words", status, isErr, text)
		}
		texts = append(texts, text)
	}
	// Now the refresh a 401 starts fails too, and the token endpoint echoes what it was sent.
	r.set(echo(http.StatusUnauthorized), true)
	calls := r.tokenCalls.Load()
	_, text, _ := callFull(t, cs, "get_patient", nil)
	if r.tokenCalls.Load() == calls || !strings.Contains(text, "rejected Authorization: Basic") {
		t.Fatalf("the refresh did not fail with the echo: %q", text)
	}
	texts = append(texts, text)
	for _, tool := range []string{"list_practices", "practice_status", "whoami"} {
		_, text, _ := callFull(t, cs, tool, nil)
		texts = append(texts, text)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(rogueClientID + ":" + rogueSecret))
	for _, text := range texts {
		for _, s := range append(r.tokens(), rogueSecret, basic) {
			if strings.Contains(text, s) {
				t.Fatalf("the client received %q in %q", s, text)
			}
		}
	}
}

package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
	"github.com/healow-mcp/healow-mcp/vault"
)

// BenchmarkPath is what the MCP path costs on top of the GET it makes, for a typed search of 20
// lab results and for a read of the patient, against the TLS sandbox on loopback:
//   - direct: the same GET of the same URL with the same token and HTTP client, no MCP at all;
//   - passthrough: a bare go-sdk server whose one tool does that GET and returns the body, called
//     by the SDK's client over the in-memory transport (what any MCP server pays);
//   - the healow tool (search_observation, fhir_search, get_patient, fhir_get) over the same
//     transport: the middleware, the actor's round trip, checking the answer against the
//     patient, cleaning, fitting, the audit row.
//
// The typed path's own cost is its time less the passthrough's. docs/performance.md has the
// figures; the rate limit is set far above eCW's, since this measures the path, not the limiter.
func BenchmarkPath(b *testing.B) {
	env := testenv.Start(b, testenv.Options{Practice: practice.Options{RequestsPerMinute: 1 << 30}})
	urls := &lastURL{next: env.HTTP.Transport}
	env.HTTP.Transport = urls // before any practice is served: the actors read it only later
	p := env.Sandbox.Practices()[0]
	id := env.Connect(b, p).ID
	env.Actor(b, id)
	token, err := env.Secrets.Get(id, vault.AccessToken)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	healow := inMemory(b, mcp.NewServer(env.Tree.Registry))
	bare := inMemory(b, passthrough(env.HTTP, token))

	lab, err := fhir.LookupCategory("Observation", "laboratory")
	if err != nil {
		b.Fatal(err)
	}
	// Each call is checked once for what it returns, so that no figure is of an empty answer.
	var page struct{ Returned int }
	callJSON(b, healow, "search_observation", map[string]any{"category": "laboratory", "count": 20}, &page)
	var bundle struct{ Entry []json.RawMessage }
	callJSON(b, healow, "fhir_search", map[string]any{"resource": "Observation",
		"params": map[string]any{"category": lab.System + "|" + lab.Code, "_count": "20"}}, &bundle)
	if page.Returned != 20 || len(bundle.Entry) != 20 {
		b.Fatalf("search_observation returned %d, fhir_search %d; want 20 each", page.Returned, len(bundle.Entry))
	}

	for _, bc := range []struct {
		name string
		tool string
		args map[string]any
	}{
		{"search-20", "search_observation", map[string]any{"category": "laboratory", "count": 20}},
		{"read", "get_patient", nil},
	} {
		// The URL healow's actor asks for is the one the others ask for too.
		callTool(b, healow, bc.tool, bc.args)
		u := urls.last()
		b.Run(bc.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := testenv.GetFHIR(ctx, env.HTTP, u, token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/passthrough", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				callTool(b, bare, "get", map[string]any{"url": u})
			}
		})
		b.Run(bc.name+"/"+bc.tool, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				callTool(b, healow, bc.tool, bc.args)
			}
		})
	}
	// The raw tools, for the same two requests.
	for _, bc := range []struct {
		name, tool string
		args       map[string]any
	}{
		{"search-20", "fhir_search", map[string]any{"resource": "Observation",
			"params": map[string]any{"category": lab.System + "|" + lab.Code, "_count": "20"}}},
		{"read", "fhir_get", map[string]any{"resource": "Patient", "id": p.PatientID}},
	} {
		b.Run(bc.name+"/"+bc.tool, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				callTool(b, healow, bc.tool, bc.args)
			}
		})
	}
}

// inMemory connects the SDK's client to s until the benchmark ends.
func inMemory(b *testing.B, s *sdk.Server) *sdk.ClientSession {
	b.Helper()
	cs, end, err := mcp.ConnectInMemory(context.Background(), s, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(end)
	return cs
}

func callTool(b *testing.B, cs *sdk.ClientSession, name string, args map[string]any) *sdk.CallToolResult {
	b.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		b.Fatalf("%s: tool error %+v", name, res.Content[0])
	}
	return res
}

// callJSON decodes the JSON a tool returns in its first block into v.
func callJSON(b *testing.B, cs *sdk.ClientSession, name string, args map[string]any, v any) {
	b.Helper()
	text, ok := callTool(b, cs, name, args).Content[0].(*sdk.TextContent)
	if !ok {
		b.Fatalf("%s: the first block is not text", name)
	}
	if err := json.Unmarshal([]byte(text.Text), v); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
}

// passthroughIn is the bare server's one argument.
type passthroughIn struct {
	URL string `json:"url"`
}

// passthrough is the least an MCP server can do for a GET: one typed tool that makes it with
// the token and returns the body as text.
func passthrough(hc *http.Client, token string) *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "passthrough", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "get"}, func(ctx context.Context, _ *sdk.CallToolRequest, in passthroughIn) (*sdk.CallToolResult, any, error) {
		body, err := testenv.GetFHIR(ctx, hc, in.URL, token)
		if err != nil {
			return nil, nil, err
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: string(body)}}}, nil, nil
	})
	return s
}

// lastURL remembers the URL of the last FHIR request that went through it.
type lastURL struct {
	next http.RoundTripper
	mu   sync.Mutex
	u    string
}

func (l *lastURL) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		l.mu.Lock()
		l.u = req.URL.String()
		l.mu.Unlock()
	}
	return l.next.RoundTrip(req)
}

func (l *lastURL) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.u
}

package mcp_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// maxClientMessage is the largest message the TypeScript SDK's client accepts: over it, it
// closes the connection, and every practice's session with it.
const maxClientMessage = 10 << 20

// wireTransports connects a server and a client as sdk.NewInMemoryTransports does, except that
// the client refuses a message over maxClientMessage as the TypeScript SDK's does, and largest
// records the largest message it received, in bytes on the wire.
func wireTransports(largest *atomic.Int64) (sdk.Transport, sdk.Transport) {
	c1, c2 := net.Pipe()
	return &sdk.IOTransport{Reader: c1, Writer: c1},
		&sdk.IOTransport{Reader: &lineMeter{r: c2, largest: largest}, Writer: c2, MaxLineLength: maxClientMessage}
}

// lineMeter measures the lines (JSON-RPC messages) read through it.
type lineMeter struct {
	r       io.ReadCloser
	line    int64
	largest *atomic.Int64
}

func (m *lineMeter) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			m.line += int64(len(rest))
			break
		}
		m.line += int64(i)
		rest = rest[i+1:]
		if m.line > m.largest.Load() {
			m.largest.Store(m.line)
		}
		m.line = 0
	}
	if m.line > m.largest.Load() {
		m.largest.Store(m.line)
	}
	return n, err
}

func (m *lineMeter) Close() error { return m.r.Close() }

// wireCall is one tool call and what reached the client: the text a model reads, how large the
// message was on the wire, and whether it was an error.
type wireCall struct {
	res   *sdk.CallToolResult
	text  string
	wire  int64
	isErr bool
}

func callOnTheWire(t *testing.T, r *rogue, cs *sdk.ClientSession, tool string, args map[string]any) wireCall {
	t.Helper()
	r.largest.Store(0)
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v (the largest message was %d bytes)", tool, err, r.largest.Load())
	}
	var text strings.Builder
	for _, c := range res.Content {
		switch c := c.(type) {
		case *sdk.TextContent:
			text.WriteString(c.Text)
		case *sdk.EmbeddedResource:
			text.WriteString(c.Resource.Text)
		}
	}
	return wireCall{res: res, text: text.String(), wire: r.largest.Load(), isErr: res.IsError}
}

// textLimit is the most a result of text may take on the wire: its text (64 KiB, JSON-escaped)
// and the structured content that mirrors it.
const textLimit = 4 * mcp.MaxResultBytes

// Answers that once went out unbounded: a Bundle's other members, a megabyte next link, an
// OperationOutcome entry's diagnostics, a capability statement of megabytes, an id repeated
// beside its resource, a document's attachments. Each result now holds at most 64 KiB of text
// and says what it left out, measured on the wire through the SDK's client.
func TestEveryAnswerFitsOnTheWire(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	mb := strings.Repeat("m", 1<<20)
	obs := func(i int) string {
		return fmt.Sprintf(`{"resource":{"resourceType":"Observation","id":"o%d","status":"final"},"search":{"mode":"match"}}`, i)
	}
	three := obs(1) + "," + obs(2) + "," + obs(3)
	r.mu.Lock()
	r.metadata = nil // the statement below, declaring how each type is limited to the patient
	r.mu.Unlock()
	var resources []string
	for _, typ := range []string{"Observation", "Condition", "Encounter", "Goal", "DocumentReference"} {
		resources = append(resources, `{"type":"`+typ+`","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"patient"}]}`)
	}
	for i := 0; len(resources)*100 < 5<<20; i++ {
		resources = append(resources, fmt.Sprintf(`{"type":"Type%07d","interaction":[{"code":"read"},{"code":"search-type"}],"searchParam":[{"name":"patient"}]}`, i))
	}
	var attachments []string
	for i := range 800 {
		attachments = append(attachments, fmt.Sprintf(`{"attachment":{"contentType":"application/pdf","url":"Binary/b%d"}}`, i))
	}
	answers := map[string]string{
		"Observation": `{"resourceType":"Bundle","type":"searchset","meta":{"tag":[{"code":"` + mb + `"}]},"identifier":{"value":"` + mb + `"},"total":3,` +
			`"link":[{"relation":"self","url":"` + r.base() + `/Observation?` + mb + `"},{"relation":"next","url":"` + r.base() + `/Observation?page=2&pad=` + mb + `"}],` +
			`"entry":[` + three + `]}`,
		"Condition": `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"` + r.base() + `/Condition?` + mb + `"},` +
			`{"relation":"next","url":"` + r.base() + `/Condition?page=2"}],"entry":[` + three + `]}`,
		"Encounter": `{"resourceType":"Bundle","type":"searchset","entry":[` + three + `,{"resource":{"resourceType":"OperationOutcome",` +
			`"issue":[{"severity":"warning","diagnostics":"` + mb + `"}]},"search":{"mode":"outcome"}}]}`,
		"metadata":             `{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server","resource":[` + strings.Join(resources, ",") + `]}]}`,
		"Practitioner/dr-1":    `{"resourceType":"Practitioner","id":"` + strings.Repeat("i", 40<<10) + `"}`,
		"DocumentReference/d1": `{"resourceType":"DocumentReference","id":"d1","subject":{"reference":"Patient/pat-1"},"content":[` + strings.Join(attachments, ",") + `]}`,
		"Goal":                 `{"resourceType":"Bundle","entry":[` + strings.Repeat(`{"a":[`, 2000) + strings.Repeat(`]}`, 2000) + `]}`,
	}
	var followed atomic.Bool
	r.set(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if strings.HasSuffix(req.URL.Path, "/Condition") && req.URL.Query().Get("page") == "2" {
			followed.Store(true)
		}
		fmt.Fprint(w, answers[strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/")])
	}, false)

	for _, tc := range []struct {
		tool  string
		args  map[string]any
		isErr bool
		says  []string
	}{
		{"search_observation", nil, false, []string{"meta (1024 KiB)", "identifier (1024 KiB)", "link (2048 KiB)", "next link is 1024 KiB long"}},
		{"fhir_search", map[string]any{"resource": "Observation"}, false, []string{"meta (1024 KiB)", "next link is 1024 KiB long"}},
		{"search_condition", nil, false, []string{"link (1024 KiB; only the next link is kept)"}},
		{"list_problems", nil, false, nil},
		{"search_encounter", nil, false, []string{"The practice said: warning: mmm", "m…."}},
		{"get_capability_statement", nil, false, []string{"resource types the practice declares fit in the 64 KiB a result may hold"}},
		{"get_practitioner", map[string]any{"id": "dr-1"}, false, nil},
		{"get_document_reference", map[string]any{"id": "d1"}, false, []string{"of the document's 800 attachments are not listed"}},
		{"list_goals", nil, true, []string{"nests objects and lists more than 100 levels deep"}},
	} {
		c := callOnTheWire(t, r, cs, tc.tool, tc.args)
		if c.isErr != tc.isErr || len(c.text) > mcp.MaxResultBytes || c.wire > textLimit {
			t.Errorf("%s: error %v, %d bytes of text, %d on the wire: %.300s", tc.tool, c.isErr, len(c.text), c.wire, c.text)
		}
		for _, w := range tc.says {
			if !strings.Contains(c.text, w) {
				t.Errorf("%s does not say %q: %.1000s", tc.tool, w, c.text[max(len(c.text)-1000, 0):])
			}
		}
		if raw, _ := json.Marshal(c.res.StructuredContent); len(raw) > 2*mcp.MaxResultBytes {
			t.Errorf("%s: %d bytes of structured content", tc.tool, len(raw))
		}
	}
	// A next link that can be followed survives a link member cut down to it: the typed search
	// followed it, and stopped when it led back to the same page.
	var page struct{ Note string }
	followed.Store(false)
	callOK(t, cs, "search_condition", nil, &page)
	if !followed.Load() || !strings.Contains(page.Note, "led back to a page already read") {
		t.Errorf("search_condition: next link followed %v, note %q", followed.Load(), page.Note)
	}
}

// A 9 MiB PDF once became a 12 MiB message, which the TypeScript SDK's client refuses by
// closing the connection: every practice was lost for the session. Now an image or PDF over
// 7 MiB comes back as a sentence with its type and size, one under it as content, and the
// session carries on.
func TestLargeDocumentsKeepTheSession(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	// Raw, as some eCW builds send documents: the practice's side stays cheap, and the message
	// that carries the content is the same base64 as for a Binary resource.
	pdfs := map[string][]byte{"pdf9": bytes.Repeat([]byte{0x25}, 9<<20), "pdf6": bytes.Repeat([]byte{0x25}, 6<<20),
		"pdf7": bytes.Repeat([]byte{0x25}, mcp.MaxBinaryBytes), "png7": bytes.Repeat([]byte{0x89}, mcp.MaxBinaryBytes+1)}
	types := map[string]string{"png7": "image/png"}
	r.set(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.URL.Path, "/DocumentReference") { // the patient's documents hold both
			fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"DocumentReference","id":"d1",`+
				`"subject":{"reference":"Patient/pat-1"},"content":[{"attachment":{"url":"Binary/pdf9"}},{"attachment":{"url":"Binary/pdf6"}},`+
				`{"attachment":{"url":"Binary/pdf7"}},{"attachment":{"url":"Binary/png7"}}]}}]}`)
			return
		}
		id := strings.TrimPrefix(req.URL.Path, "/fhir/r4/TEST/Binary/")
		w.Header().Set("Content-Type", cmp.Or(types[id], "application/pdf"))
		w.Write(pdfs[id])
	}, false)
	for _, tc := range []struct {
		id        string
		blob      int
		says      string
		wireLimit int64
	}{
		{"pdf9", 0, "This application/pdf content is 9.0 MiB, more than the 7 MiB a result can carry", textLimit},
		{"pdf6", 6 << 20, `"size":6291456`, maxClientMessage},
		{"pdf7", mcp.MaxBinaryBytes, `"size":7340032`, maxClientMessage}, // the largest that is sent: it fits
		{"png7", 0, "This image/png content is 7.0 MiB, more than the 7 MiB a result can carry", textLimit},
	} {
		c := callOnTheWire(t, r, cs, "get_binary", map[string]any{"id": tc.id})
		blob := 0
		for _, b := range c.res.Content {
			switch b := b.(type) {
			case *sdk.EmbeddedResource:
				blob = len(b.Resource.Blob)
			case *sdk.ImageContent:
				blob = len(b.Data)
			}
		}
		if c.isErr || blob != tc.blob || !strings.Contains(c.text, tc.says) || c.wire > tc.wireLimit || len(c.text) > mcp.MaxResultBytes {
			t.Errorf("%s: error %v, %d bytes of content, %d on the wire: %.300s", tc.id, c.isErr, blob, c.wire, c.text)
		}
	}
	var who struct {
		PatientID string `json:"patient_id"`
	}
	callOK(t, cs, "whoami", nil, &who)
	if who.PatientID != "pat-1" {
		t.Fatalf("after the documents: whoami = %+v", who)
	}
}

// Errors about an argument that failed (a value of the wrong type, an unknown member) and the
// SDK's about an unknown tool's name repeat at most their start and end of it.
func TestSDKErrorsAreCut(t *testing.T) {
	t.Parallel()
	r, cs := startRogue(t)
	big := strings.Repeat("x", 1<<20)
	for _, args := range []map[string]any{
		{"resource": "Patient", "id": []string{big}},
		{"resource": "Patient", "id": "p1", big: 1},
	} {
		c := callOnTheWire(t, r, cs, "fhir_get", args)
		if !c.isErr || len(c.text) > 1<<10 || longestRun(c.text, 'x') > quote.Max+100 || !strings.Contains(c.text, "id") && !strings.Contains(c.text, "argument") {
			t.Errorf("fhir_get: error %v, %d bytes: %.400s", c.isErr, len(c.text), c.text)
		}
	}
	_, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: big, Arguments: map[string]any{}})
	if err == nil || len(err.Error()) > 1<<10 || !strings.Contains(err.Error(), "unknown tool") {
		t.Fatalf("an unknown tool with a 1 MiB name: %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
}

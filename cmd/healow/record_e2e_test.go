package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/mcp/chart"
)

// TestServeSearchesTheRecordAndChartsATrend runs the built binary as Claude Desktop would, over
// stdio, against `healow sandbox`'s two practices, both connected with `healow connect`:
// search_record finds a word that only a document's text holds (the progress note's, at both
// practices), and lab_trend answers LDL with its rows and a PNG chart that marks every one.
func TestServeSearchesTheRecordAndChartsATrend(t *testing.T) {
	requireKeychain(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "sandbox-ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newCLI(t, ctx, clientEnv(t, "record", dir, ca))
	sb := c.sandbox(t, ca)
	c = c.with(sb.allow)
	names := map[string]string{"FEIGCD": "Sunrise", "AACJCD": "Lakeside"}
	for code, name := range names {
		var id string
		step(t, "connect "+name, func(t *testing.T) { id = c.connect(t, name, sb.bases[code], signInAt(ca)).id })
		t.Cleanup(func() { deleteKeychainItems(id) })
	}
	var serveLog lockedBuffer
	cs := c.serve(t, "record", &serveLog)
	defer cs.Close()

	step(t, "search_record finds a word of a document's text", func(t *testing.T) {
		var r struct {
			Matches  []struct{ Type, ID, Practice, Snippet string }
			Coverage []struct{ Practice, State string }
		}
		// A call waits a while for the builds and then answers from what they have read; they go
		// on in the background, so a slow machine sees them complete at a later call.
		for range 5 {
			callJSON(t, ctx, cs, "search_record", map[string]any{"text": "complaints"}, &r)
			if len(r.Coverage) == 2 && r.Coverage[0].State == "complete" && r.Coverage[1].State == "complete" {
				break
			}
		}
		if len(r.Coverage) != 2 || r.Coverage[0].State != "complete" || r.Coverage[1].State != "complete" {
			t.Fatalf("coverage %+v\n%s", r.Coverage, serveLog.String())
		}
		found := map[string]bool{}
		for _, m := range r.Matches {
			if m.Type != "DocumentReference" || !strings.Contains(strings.ToLower(m.Snippet), "complaints") {
				t.Errorf("match %+v: a word only in documents' text matched elsewhere", m)
			}
			found[m.Practice] = true
		}
		if !found["Sunrise"] || !found["Lakeside"] {
			t.Fatalf("the progress notes' text is not found at both practices: %+v", r.Matches)
		}
		// The word is in the note's text, not in the DocumentReference that points to it.
		for _, p := range []string{"Sunrise", "Lakeside"} {
			res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "fhir_search", Arguments: map[string]any{"practice": p, "resource": "DocumentReference"}})
			if err != nil || res.IsError {
				t.Fatalf("fhir_search DocumentReference at %s: %v %+v", p, err, res)
			}
			if text := res.Content[0].(*sdk.TextContent).Text; !strings.Contains(text, "Progress note") || strings.Contains(strings.ToLower(text), "complaints") {
				t.Fatalf("%s's documents' JSON: %.300s", p, text)
			}
		}
	})

	// healow serve reads PDFs in a child, healow pdftext: a word only in the referral letters' PDF
	// text is found at both practices, and no PDF is named as not searched.
	step(t, "search_record finds a word of a PDF's text", func(t *testing.T) {
		var r struct {
			Matches  []struct{ Type, Practice, Snippet string }
			Coverage []struct {
				Practice     string
				Unsearchable []string
			}
		}
		callJSON(t, ctx, cs, "search_record", map[string]any{"text": "consultant"}, &r)
		found := map[string]bool{}
		for _, m := range r.Matches {
			if m.Type != "DocumentReference" || !strings.Contains(strings.ToLower(m.Snippet), "consultant") {
				t.Errorf("match %+v: a word only in the PDFs matched elsewhere", m)
			}
			found[m.Practice] = true
		}
		if !found["Sunrise"] || !found["Lakeside"] {
			t.Fatalf("the referral PDFs' text is not found at both practices: %+v\n%s", r, serveLog.String())
		}
		for _, c := range r.Coverage {
			if u := strings.Join(c.Unsearchable, " | "); strings.Contains(u, "PDF") {
				t.Errorf("%s names a PDF as not searched: %s", c.Practice, u)
			}
		}
	})

	step(t, "lab_trend charts LDL", func(t *testing.T) {
		res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "lab_trend", Arguments: map[string]any{"name": "ldl"}})
		if err != nil || res.IsError || len(res.Content) != 2 {
			t.Fatalf("lab_trend: %v %+v", err, res)
		}
		var out struct {
			Series []struct {
				Unit    string
				Charted bool
				Rows    []struct {
					Date  string
					Value float64
					From  []string
				}
			}
			Charted int
		}
		if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &out); err != nil {
			t.Fatal(err)
		}
		// The sandbox's Sunrise has four LDL results; Lakeside has none.
		if len(out.Series) != 1 || !out.Series[0].Charted || len(out.Series[0].Rows) != 4 || out.Charted != 4 || out.Series[0].Unit != "mg/dL" {
			t.Fatalf("ldl: %+v", out)
		}
		for _, r := range out.Series[0].Rows {
			if r.Value <= 0 || r.Date == "" || len(r.From) != 1 || r.From[0] != "Sunrise" {
				t.Errorf("ldl row %+v", r)
			}
		}
		img, ok := res.Content[1].(*sdk.ImageContent)
		if !ok || img.MIMEType != "image/png" {
			t.Fatalf("the second block is %T, not a PNG", res.Content[1])
		}
		decoded, format, err := image.Decode(bytes.NewReader(img.Data))
		if err != nil || format != "png" {
			t.Fatalf("the chart does not decode as a PNG (%s): %v", format, err)
		}
		if b := decoded.Bounds(); b.Dx() != chart.Width || b.Dy() != chart.Height {
			t.Errorf("the chart is %v, want %dx%d", b, chart.Width, chart.Height)
		}
	})
}

package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"slices"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp/chart"
)

type trend struct {
	Series []struct {
		Test, Unit, Range string
		Charted           bool
		Rows              []struct {
			Date  string
			Value float64
			Flag  string
			From  []string
		}
	}
	Charted   int
	More      int
	Practices []struct{ Name, State, Error string }
	Note      string
}

// trendCall runs lab_trend and returns its result and its chart, decoded.
func trendCall(t *testing.T, cs *sdk.ClientSession, args map[string]any) (trend, image.Image) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "lab_trend", Arguments: args})
	if err != nil || res.IsError {
		t.Fatalf("lab_trend(%v): %v %+v", args, err, res)
	}
	checkOutput(t, cs, "lab_trend", res)
	var out trend
	if len(res.Content) != 2 {
		t.Fatalf("lab_trend(%v): %d blocks, want the result and its chart", args, len(res.Content))
	}
	if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &out); err != nil {
		t.Fatal(err)
	}
	png, ok := res.Content[1].(*sdk.ImageContent)
	if !ok || png.MIMEType != "image/png" {
		t.Fatalf("the second block is %T, not a PNG", res.Content[1])
	}
	img, format, err := image.Decode(bytes.NewReader(png.Data))
	if err != nil || format != "png" {
		t.Fatalf("the chart does not decode as a PNG (%s): %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != chart.Width || b.Dy() != chart.Height {
		t.Errorf("the chart is %v, want %dx%d", b, chart.Width, chart.Height)
	}
	rows := 0
	for _, s := range out.Series {
		if s.Charted {
			rows += len(s.Rows)
		}
		if !slices.IsSortedFunc(s.Rows, func(a, b struct {
			Date  string
			Value float64
			Flag  string
			From  []string
		}) int {
			return bytes.Compare([]byte(a.Date), []byte(b.Date))
		}) {
			t.Errorf("%s: rows are not oldest first", s.Test)
		}
	}
	if out.Charted != rows || rows == 0 {
		t.Errorf("the chart marks %d points for %d charted rows", out.Charted, rows)
	}
	return out, img
}

// A test's results from both practices come as one series, oldest first, each with its practice,
// beside a chart that marks every one of them.
func TestLabTrendChartsEveryResultOfEveryPractice(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	cs := session(t, env)
	sunrise, lakeside := connectBoth(t, env, cs)

	ldl, _ := trendCall(t, cs, map[string]any{"name": "ldl"})
	if len(ldl.Series) != 1 || len(ldl.Series[0].Rows) != 4 || ldl.Series[0].Unit != "mg/dL" || ldl.Series[0].Range == "" {
		t.Fatalf("ldl: %+v", ldl)
	}
	for _, r := range ldl.Series[0].Rows {
		if r.Value <= 0 || r.Flag == "" || !slices.Equal(r.From, []string{sunrise.Name}) {
			t.Errorf("ldl row %+v", r)
		}
	}

	glucose, _ := trendCall(t, cs, map[string]any{"name": "glucose"})
	if len(glucose.Series) != 1 || len(glucose.Series[0].Rows) != 7 || len(glucose.Practices) != 2 {
		t.Fatalf("glucose from both practices: %+v", glucose)
	}
	practices := map[string]bool{}
	for _, r := range glucose.Series[0].Rows {
		practices[r.From[0]] = true
	}
	if !practices[sunrise.Name] || !practices[lakeside.Name] {
		t.Errorf("glucose: rows of %v only", practices)
	}

	// Blood pressure is two series, systolic and diastolic, on one chart.
	bp, _ := trendCall(t, cs, map[string]any{"name": "blood pressure", "practices": []string{sunrise.Name}})
	if len(bp.Series) != 2 || bp.Charted != 8 || len(bp.Practices) != 1 {
		t.Fatalf("blood pressure: %+v", bp)
	}

	byCode, _ := trendCall(t, cs, map[string]any{"code": "http://loinc.org|13457-7"})
	if len(byCode.Series) != 1 || len(byCode.Series[0].Rows) != 4 {
		t.Errorf("by code: %+v", byCode)
	}

	callErr(t, cs, "lab_trend", map[string]any{"name": "zebra stripes"}, "no numeric result", "ldl, cholesterol, a1c")
	callErr(t, cs, "lab_trend", map[string]any{}, "give name", "or code")
}

// A result that two practices both hold (a lab sent to both, or a record carried over) is one
// row naming both, and one point on the chart: the sandbox's third practice is a copy of the
// first, under its own code, name and patient.
func TestLabTrendCountsAResultTwoPracticesHoldOnce(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Sandbox: sandbox.Options{Practices: 3}})
	cs := session(t, env)
	sunrise, copied := env.Sandbox.Practices()[0], env.Sandbox.Practices()[2]
	connectThroughTools(t, env, cs, sunrise)
	connectThroughTools(t, env, cs, copied)

	ldl, _ := trendCall(t, cs, map[string]any{"name": "ldl"})
	if len(ldl.Series) != 1 || len(ldl.Series[0].Rows) != 4 || ldl.Charted != 4 || len(ldl.Practices) != 2 {
		t.Fatalf("ldl at a practice and its copy: %+v", ldl)
	}
	for _, r := range ldl.Series[0].Rows {
		if !slices.Equal(r.From, []string{sunrise.Name, copied.Name}) && !slices.Equal(r.From, []string{copied.Name, sunrise.Name}) {
			t.Errorf("row %+v does not name both practices", r)
		}
	}
}

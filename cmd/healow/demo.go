package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/mcp"
	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/egress"
	"github.com/healow-mcp/healow-mcp/vault"
)

var demoHelp = &help{
	name:     "demo",
	synopsis: "try everything on the sandbox, in one process, with no credentials",
	usage:    "healow demo",
	about: "It starts the sandbox, connects two practices through the real SMART on FHIR flow, drives the " +
		"MCP server with the MCP SDK's client and prints what a client sees. Secrets stay in memory; " +
		"neither your keychain nor your token store is touched.",
	example: "healow demo",
}

// runDemo shows the whole path in one process: the sandbox, two practices connected through the
// real SMART flow, and the real MCP server driven by the SDK's client. Secrets stay in memory and
// the store is a temporary file: the keychain and the user's token store are never touched.
func runDemo(ctx context.Context, args []string) error {
	fs := demoHelp.flags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return demo(ctx, os.Stdout, "", readPDFs())
}

// demo runs the tools against the sandbox and prints what they answer; the LDL chart is written
// to a file in chartDir, or in a new temporary directory when it is "". pdfs is how PDFs' text is
// read (readPDFs).
func demo(ctx context.Context, out io.Writer, chartDir string, pdfs mcp.Option) error {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		return err
	}
	defer sb.Close()
	dir, err := os.MkdirTemp("", "healow-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := vault.Open(filepath.Join(dir, "tokens.db"))
	if err != nil {
		return err
	}
	defer store.Close()

	reg := sandbox.DefaultClient()
	// The sandbox is on this machine, which healow refuses unless it is listed: the demo lists it.
	hosts, err := egress.Parse(sb.Host())
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The sandbox's practice directory stands for eClinicalWorks', kept beside the demo's store.
	practices, err := newDirectory(sb.DirectoryURL(), store.Path(), sb.CertPool(), hosts)
	if err != nil {
		return err
	}
	a := newApp(client{id: reg.ID, secret: reg.Secret, redirectURI: reg.RedirectURIs[0], hosts: hosts}, store, vault.NewMemory(), newHTTPClient(sb.CertPool(), hosts), practice.Options{}, log, "", practices)
	ctx, cancel := context.WithCancel(ctx)
	treeDone := make(chan struct{})
	go func() { a.Tree.Serve(ctx); close(treeDone) }()
	defer func() { cancel(); <-treeDone }() // the audit trail is written before the store closes

	cs, end, err := mcp.ConnectInMemory(ctx, mcp.NewServer(a.Tree.Registry, pdfs), "healow-demo")
	if err != nil {
		return err
	}
	defer end()
	d := &demoClient{ctx: ctx, cs: cs, out: out}

	fmt.Fprintf(out, "Sandbox eClinicalWorks at %s\n\nTools the MCP client sees:\n", sb.URL())
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return err
	}
	for _, t := range tools.Tools {
		fmt.Fprintf(out, "  %-26s %s\n", t.Name, displayName(t))
	}

	if _, err := d.find("sunrise anytown"); err != nil {
		return err
	}
	for _, p := range sb.Practices() {
		// The base URL comes from the directory, as a model finds it for a practice the user names.
		rows, err := d.find(p.Code)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return fmt.Errorf("find_practice %s: not in the directory", p.Code)
		}
		p.BaseURL = rows[0].FHIRBaseURL
		fmt.Fprintf(out, "\nconnect_practice %q %s\n", p.Name, p.BaseURL)
		var started struct {
			AuthorizeURL string `json:"authorize_url"`
		}
		if err := d.call("connect_practice", map[string]any{"name": p.Name, "fhir_base_url": p.BaseURL}, &started); err != nil {
			return err
		}
		fmt.Fprintf(out, "  authorize_url: %s…\n", cut(started.AuthorizeURL, 90))
		redirect, err := sb.Consent(ctx, started.AuthorizeURL) // the sandbox's patient consents
		if err != nil {
			return err
		}
		var done struct {
			PracticeID string `json:"practice_id"`
			PatientID  string `json:"patient_id"`
		}
		if err := d.call("complete_oauth", map[string]any{"code": redirect}, &done); err != nil {
			return err
		}
		fmt.Fprintf(out, "complete_oauth → practice %s, patient %s\n", done.PracticeID, done.PatientID)
	}

	for _, p := range sb.Practices() {
		var who struct {
			PatientID   string    `json:"patient_id"`
			Scopes      []string  `json:"scopes"`
			TokenExpiry time.Time `json:"token_expiry"`
			State       string    `json:"state"`
		}
		if err := d.call("whoami", map[string]any{"practice": p.Name}, &who); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nwhoami %q: patient %s, %d scopes granted, token valid until %s, %s\n",
			p.Name, who.PatientID, len(who.Scopes), who.TokenExpiry.Format(time.Kitchen), who.State)
		var patient struct {
			Resource map[string]any `json:"resource"`
		}
		if err := d.call("get_patient", map[string]any{"practice": p.Name}, &patient); err != nil {
			return err
		}
		fmt.Fprintf(out, "  get_patient: %s\n", describe(patient.Resource))
		for _, q := range []struct {
			tool string
			args map[string]any
		}{
			{"search_observation", map[string]any{"category": "laboratory"}},
			{"search_observation", map[string]any{"name": "cholesterol", "latest": true}},
			{"list_problems", map[string]any{}},
			{"search_medication_request", map[string]any{"status": "active"}},
		} {
			q.args["practice"] = p.Name
			if err := d.page(q.tool, q.args); err != nil {
				return err
			}
		}
		if err := d.search(map[string]any{"practice": p.Name, "resource": "Encounter", "params": map[string]any{"date": "ge2024-01-01"}}); err != nil {
			return err
		}
		if err := d.documents(p.Name); err != nil {
			return err
		}
	}
	if err := d.summary(); err != nil {
		return err
	}
	if err := d.trend(chartDir); err != nil {
		return err
	}
	// A word in the progress notes' text, then one only in the text of the referral letters' PDFs.
	for _, word := range []string{"complaints", "consultant"} {
		if err := d.recordSearch(word); err != nil {
			return err
		}
	}
	return nil
}

type demoClient struct {
	ctx context.Context
	cs  *sdk.ClientSession
	out io.Writer
}

// find asks the practice directory, as a model does for a practice the user names.
func (d *demoClient) find(query string) ([]foundRow, error) {
	var f struct {
		Practices []foundRow `json:"practices"`
		Note      string     `json:"note"`
	}
	if err := d.call("find_practice", map[string]any{"query": query}, &f); err != nil {
		return nil, err
	}
	fmt.Fprintf(d.out, "\nfind_practice %q: %d found\n", query, len(f.Practices))
	for _, r := range f.Practices {
		fmt.Fprintf(d.out, "  %s, %s: code %s, %s\n", r.Name, r.Address, r.Code, r.FHIRBaseURL)
	}
	if f.Note != "" {
		fmt.Fprintf(d.out, "  note: %s\n", f.Note)
	}
	return f.Practices, nil
}

// call runs a tool and decodes its JSON text into v.
func (d *demoClient) call(name string, args map[string]any, v any) error {
	text, err := d.text(name, args)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(text), v)
}

// text runs a tool and returns its text, as the model reads it.
func (d *demoClient) text(name string, args map[string]any) (string, error) {
	res, err := d.cs.CallTool(d.ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	text := ""
	for _, c := range res.Content {
		if t, ok := c.(*sdk.TextContent); ok {
			text += t.Text
		}
	}
	if res.IsError {
		return "", fmt.Errorf("%s: %s", name, text)
	}
	return text, nil
}

// search prints the first page of a search, then follows one next link, as a model would.
func (d *demoClient) search(args map[string]any) error {
	var b bundle
	if err := d.call("fhir_search", args, &b); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "  fhir_search %s %v: %d in all, %d on this page\n", args["resource"], args["params"], b.Total, len(b.Entry))
	for i, e := range b.Entry {
		if i == 3 {
			fmt.Fprintf(d.out, "    …\n")
			break
		}
		fmt.Fprintf(d.out, "    %s\n", describe(e.Resource))
	}
	if next := b.next(); next != "" {
		var page bundle
		if err := d.call("fhir_search", map[string]any{"practice": args["practice"], "next": next}, &page); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "    next page: %d more\n", len(page.Entry))
	}
	return nil
}

// page prints the first page of a typed search, then follows its next link, as a model would.
func (d *demoClient) page(tool string, args map[string]any) error {
	var pg struct {
		Total    int               `json:"total"`
		Returned int               `json:"returned"`
		Entries  []json.RawMessage `json:"entries"`
		Next     string            `json:"next"`
	}
	if err := d.call(tool, args, &pg); err != nil {
		return err
	}
	filters := map[string]any{}
	for k, v := range args {
		if k != "practice" {
			filters[k] = v
		}
	}
	fmt.Fprintf(d.out, "  %s %v: %d in all, %d on this page\n", tool, filters, pg.Total, pg.Returned)
	for i, e := range pg.Entries {
		if i == 3 {
			fmt.Fprintf(d.out, "    …\n")
			break
		}
		fmt.Fprintf(d.out, "    %s\n", e) // a compact row, as the model reads it
	}
	if pg.Next != "" {
		var next struct {
			Returned int `json:"returned"`
		}
		if err := d.call(tool, map[string]any{"practice": args["practice"], "next": pg.Next}, &next); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "    next page: %d more\n", next.Returned)
	}
	return nil
}

// summary asks for the patient's whole record across both practices in one call, as a model
// asked "summarise my health" would, and prints the size of the answer and a few of its facts.
func (d *demoClient) summary() error {
	text, err := d.text("patient_summary", map[string]any{})
	if err != nil {
		return err
	}
	type item struct {
		Name, Value, Flag, Date string
		From                    []string
	}
	var sum struct {
		Problems, Medications, Allergies, Immunizations, Vitals, Labs []item
		Practices                                                     []struct{ Name, State string }
	}
	if err := json.Unmarshal([]byte(text), &sum); err != nil {
		return fmt.Errorf("patient_summary: %w", err)
	}
	fmt.Fprintf(d.out, "\npatient_summary (every practice, one call, %d bytes):\n", len(text))
	for _, p := range sum.Practices {
		fmt.Fprintf(d.out, "  %s: %s\n", p.Name, p.State)
	}
	fmt.Fprintf(d.out, "  %d problems, %d medications, %d allergies, %d immunizations, %d vital signs, %d lab tests\n",
		len(sum.Problems), len(sum.Medications), len(sum.Allergies), len(sum.Immunizations), len(sum.Vitals), len(sum.Labs))
	for _, kind := range []struct {
		name  string
		items []item
	}{{"problem", sum.Problems}, {"vital", sum.Vitals}, {"lab", sum.Labs}} {
		for _, it := range kind.items[:min(2, len(kind.items))] {
			line := strings.Join(strings.Fields(strings.Join([]string{it.Date, it.Name, it.Value, it.Flag}, " ")), " ")
			fmt.Fprintf(d.out, "  %-8s %s (%s)\n", kind.name, line, strings.Join(it.From, ", "))
		}
	}
	return nil
}

// trend asks for the LDL results across practices, as a model asked "is my LDL getting better?"
// would, and writes the chart the user would see to a file, since a terminal shows no image.
func (d *demoClient) trend(dir string) error {
	res, err := d.cs.CallTool(d.ctx, &sdk.CallToolParams{Name: "lab_trend", Arguments: map[string]any{"name": "ldl"}})
	if err != nil || res.IsError || len(res.Content) != 2 {
		return fmt.Errorf("lab_trend: %v %v", err, res)
	}
	var tr struct {
		Series []struct {
			Test, Unit string
			Rows       []struct {
				Date  string
				Value float64
			}
		}
		Charted int
	}
	if err := json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &tr); err != nil {
		return fmt.Errorf("lab_trend: %w", err)
	}
	png, ok := res.Content[1].(*sdk.ImageContent)
	if !ok {
		return fmt.Errorf("lab_trend: no chart")
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "healow-demo-"); err != nil {
			return err
		}
	}
	file := filepath.Join(dir, "ldl-trend.png")
	if err := os.WriteFile(file, png.Data, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\nlab_trend ldl: %d points charted\n", tr.Charted)
	for _, s := range tr.Series {
		var vals []string
		for _, r := range s.Rows {
			vals = append(vals, fmt.Sprintf("%s %g", r.Date, r.Value))
		}
		fmt.Fprintf(d.out, "  %s (%s): %s\n", s.Test, s.Unit, strings.Join(vals, ", "))
	}
	fmt.Fprintf(d.out, "  chart: %s\n", file)
	return nil
}

// documents finds the latest progress note and reads its text, as a model asked about the last
// visit would.
func (d *demoClient) documents(practice string) error {
	var docs struct {
		Entries []struct {
			ID string `json:"id"`
		} `json:"entries"`
	}
	if err := d.call("search_document_reference", map[string]any{"practice": practice, "type": "http://loinc.org|11506-3"}, &docs); err != nil {
		return err
	}
	if len(docs.Entries) == 0 {
		return nil
	}
	var doc struct {
		Attachments []struct {
			ContentType string `json:"content_type"`
			BinaryID    string `json:"binary_id"`
		} `json:"attachments"`
	}
	if err := d.call("get_document_reference", map[string]any{"practice": practice, "id": docs.Entries[0].ID}, &doc); err != nil {
		return err
	}
	at := doc.Attachments[0]
	fmt.Fprintf(d.out, "  get_document_reference: a progress note, %s in Binary %s\n", at.ContentType, at.BinaryID)
	res, err := d.cs.CallTool(d.ctx, &sdk.CallToolParams{Name: "get_binary", Arguments: map[string]any{"practice": practice, "id": at.BinaryID}})
	if err != nil || res.IsError || len(res.Content) < 2 {
		return fmt.Errorf("get_binary: %v", err)
	}
	if text, ok := res.Content[1].(*sdk.TextContent); ok {
		lines := strings.SplitN(text.Text, "\n", 4)
		fmt.Fprintf(d.out, "  get_binary: %s\n", strings.Join(lines[:min(3, len(lines))], " / "))
	}
	return nil
}

type bundle struct {
	Total int `json:"total"`
	Link  []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		Resource map[string]any `json:"resource"`
	} `json:"entry"`
}

func (b bundle) next() string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// describe gives one line for a resource: its type, what it is, and when or how much.
func describe(r map[string]any) string {
	parts := []string{fmt.Sprint(r["resourceType"])}
	if names, ok := r["name"].([]any); ok && len(names) > 0 {
		if n, ok := names[0].(map[string]any); ok {
			parts = append(parts, strings.TrimSpace(fmt.Sprint(join(n["given"]), " ", n["family"])))
		}
	}
	for _, k := range []string{"code", "medicationCodeableConcept", "medicationReference"} {
		if cc, ok := r[k].(map[string]any); ok {
			parts = append(parts, text(cc))
		}
	}
	if types, ok := r["type"].([]any); ok && len(types) > 0 {
		if cc, ok := types[0].(map[string]any); ok {
			parts = append(parts, text(cc))
		}
	}
	if p, ok := r["period"].(map[string]any); ok {
		parts = append(parts, fmt.Sprint(p["start"]))
	}
	if q, ok := r["valueQuantity"].(map[string]any); ok {
		parts = append(parts, fmt.Sprint(q["value"], " ", q["unit"]))
	}
	for _, k := range []string{"birthDate", "effectiveDateTime", "onsetDateTime", "authoredOn"} {
		if v, ok := r[k].(string); ok {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " · ")
}

func text(cc map[string]any) string {
	for _, k := range []string{"text", "display"} {
		if t, ok := cc[k].(string); ok {
			return t
		}
	}
	if cs, ok := cc["coding"].([]any); ok && len(cs) > 0 {
		if c, ok := cs[0].(map[string]any); ok {
			return fmt.Sprint(c["display"])
		}
	}
	return ""
}

func join(v any) string {
	l, _ := v.([]any)
	s := make([]string, len(l))
	for i, x := range l {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// displayName is what a client shows for a tool, as MCP orders it: its title, else its
// annotations' title, else its name.
func displayName(t *sdk.Tool) string {
	switch {
	case t.Title != "":
		return t.Title
	case t.Annotations != nil && t.Annotations.Title != "":
		return t.Annotations.Title
	}
	return t.Name
}

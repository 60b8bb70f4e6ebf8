package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/vault"
)

var practicesHelp = &help{
	name:     "practices",
	synopsis: "the connected practices",
	usage:    "healow practices [--json]",
	about: "Each practice's name, id, FHIR base URL, patient id, token expiry and when it was connected " +
		"(--json adds the granted scopes).",
	example: "healow practices --json",
	env:     []string{"HEALOW_TOKEN_STORE"},
}

// runPractices lists the connected practices from the store.
func runPractices(ctx context.Context, args []string) error {
	fs := practicesHelp.flags()
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	store, err := openStoreIfAny()
	if err != nil {
		return err
	}
	var ps []vault.Practice
	if store != nil {
		defer store.Close()
		if ps, err = store.List(ctx); err != nil {
			return err
		}
	}
	return listPractices(os.Stdout, ps, *asJSON, time.Now())
}

// practiceRow is one connected practice as healow practices shows it. Nothing in it is secret.
type practiceRow struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	FHIRBaseURL string    `json:"fhir_base_url"`
	PatientID   string    `json:"patient_id"`
	Scopes      []string  `json:"scopes"`
	TokenExpiry time.Time `json:"token_expiry"`
	LastRefresh time.Time `json:"last_refresh"`
	Connected   time.Time `json:"connected_since"`
	// ConnectedVia is "mcp" (the MCP tools), "cli" (healow connect) or "" (not recorded).
	ConnectedVia string `json:"connected_via"`
	TokenHost    string `json:"token_endpoint_host,omitempty"`
}

func listPractices(out io.Writer, ps []vault.Practice, asJSON bool, now time.Time) error {
	rows := []practiceRow{}
	for _, p := range ps {
		rows = append(rows, practiceRow{ID: p.ID, Name: p.Name, FHIRBaseURL: p.FHIRBaseURL, PatientID: p.PatientID,
			Scopes: p.Scopes, TokenExpiry: p.TokenExpiry, LastRefresh: p.LastRefresh, Connected: p.CreatedAt,
			ConnectedVia: p.ConnectedVia, TokenHost: practice.TokenHost(p)})
	}
	if asJSON {
		return writeJSON(out, rows, true)
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "No practice is connected: connect one with healow connect --name NAME --fhir-base-url URL.")
		return nil
	}
	tw := newTable(out)
	fmt.Fprintln(tw, "NAME\tID\tFHIR BASE URL\tTOKEN ENDPOINT\tPATIENT\tTOKEN EXPIRES\tCONNECTED\tVIA\tSCOPES")
	byTools := false
	for _, r := range rows {
		expires := "-"
		if !r.TokenExpiry.IsZero() {
			expires = r.TokenExpiry.Local().Format(time.DateTime) + " (" + left(r.TokenExpiry, now) + ")"
		}
		via := map[string]string{vault.ViaMCP: "MCP tools", vault.ViaCLI: "healow connect"}[r.ConnectedVia]
		byTools = byTools || r.ConnectedVia == vault.ViaMCP
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Name, r.ID, r.FHIRBaseURL, dash(r.TokenHost), r.PatientID, expires,
			r.Connected.Local().Format(time.DateOnly), dash(via), len(r.Scopes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if byTools {
		fmt.Fprintln(out, "\nThe MCP tools connected the practices marked \"MCP tools\": a model asked for them. Check that each points where you meant; disconnect any other with healow disconnect NAME.")
	}
	// A grant runs to dozens of scopes, too long for a table row.
	_, err := fmt.Fprintln(out, "\nhealow practices --json lists the scopes each practice granted.")
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

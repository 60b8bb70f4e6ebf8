package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/healow-mcp/healow-mcp/practice/directory"
	"github.com/healow-mcp/healow-mcp/vault"
)

var findHelp = &help{
	name:     "find",
	synopsis: "find a practice in eClinicalWorks' directory by its name, city, state or code",
	usage:    "healow find [--json] WORDS...",
	about: "Every word must match a word of the practice's name, its city or state, the start of one, the " +
		"start of its postal code, or its code; the ten best are shown with their code and FHIR base URL, " +
		"and how many more matched. The directory is downloaded on first use beside the token store, " +
		"checked again after a week, and read from that copy when its host cannot be reached. Exit status " +
		"1 when nothing matched.",
	example: "healow find sunrise family anytown\nhealow connect --code FEIGCD",
	env:     []string{"HEALOW_DIRECTORY_URL", "HEALOW_TOKEN_STORE", "HEALOW_ALLOWED_HOSTS", "SSL_CERT_FILE"},
}

// runFind searches the practice directory, as the find_practice tool does. The query's words may
// come as one argument or several, with --json before, between or after them.
func runFind(ctx context.Context, args []string) error {
	fs := findHelp.flags()
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	var words []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words, rest = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	if len(words) == 0 {
		return fs.usageError()
	}
	dir, err := directoryFromEnv()
	if err != nil {
		return err
	}
	defer running(ctx, dir)()
	r, err := dir.Search(ctx, strings.Join(words, " "), directory.DefaultLimit)
	if err != nil {
		return err
	}
	if err := printFound(os.Stdout, r, *asJSON); err != nil {
		return err
	}
	if len(r.Practices) == 0 {
		return exitStatus(1)
	}
	return nil
}

// directoryFromEnv is the directory at HEALOW_DIRECTORY_URL (healow's by default), kept beside
// HEALOW_TOKEN_STORE. It needs none of the app's registration: the directory is public.
func directoryFromEnv() (*directory.Directory, error) {
	hosts, err := hostsFromEnv()
	if err != nil {
		return nil, err
	}
	path, err := vault.DefaultPath()
	if err != nil {
		return nil, err
	}
	return newDirectory(os.Getenv(directory.EnvURL), path, nil, hosts)
}

// foundRow is one practice as healow find prints it, the same fields as find_practice's rows.
type foundRow struct {
	Name        string `json:"name"`
	Address     string `json:"address"`
	Code        string `json:"code"`
	FHIRBaseURL string `json:"fhir_base_url"`
}

type foundJSON struct {
	Practices []foundRow `json:"practices"`
	More      int        `json:"more"`
	AsOf      time.Time  `json:"directory_as_of"`
	Note      string     `json:"note,omitempty"`
}

func printFound(out io.Writer, r directory.Result, asJSON bool) error {
	rows := []foundRow{}
	for _, p := range r.Practices {
		rows = append(rows, foundRow{Name: p.Name, Address: p.Address(), Code: p.Code, FHIRBaseURL: p.BaseURL})
	}
	if asJSON {
		return writeJSON(out, foundJSON{Practices: rows, More: r.More, AsOf: r.AsOf, Note: r.Note()}, true)
	}
	if len(rows) > 0 {
		tw := newTable(out)
		fmt.Fprintln(tw, "NAME\tADDRESS\tCODE\tFHIR BASE URL")
		for _, f := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, dash(f.Address), dash(f.Code), f.FHIRBaseURL)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if n := r.Note(); n != "" {
		fmt.Fprintln(out, n)
	}
	if len(rows) > 0 {
		fmt.Fprintln(out, "Connect one with: healow connect --code CODE (or --fhir-base-url URL).")
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/pdfproc"
	"github.com/healow-mcp/healow-mcp/mcp"
)

var pdftextHelp = &help{
	name:     "pdftext",
	internal: true,
	synopsis: "internal: read one PDF's text in a child process of healow serve",
	usage:    "healow pdftext < FILE.pdf",
	about: "healow serve and healow demo run this to read the text of a practice's PDFs, so that a " +
		"hostile file ends this process and never the server. It reads a PDF of at most 2 MiB on stdin " +
		"and writes its text on stdout; a PDF it cannot read ends it with status 3 and one word on " +
		"stderr (encrypted, too-large, malformed, no-text, timeout), nothing of the file. It is not listed by " +
		"healow help.",
	example: "healow pdftext < referral.pdf",
}

func runPDFText(ctx context.Context, args []string) error {
	fs := pdftextHelp.flags()
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError()
	}
	if status := pdfproc.Child(ctx, os.Stdin, os.Stdout, os.Stderr); status != 0 {
		return exitStatus(status)
	}
	return nil
}

// readPDFs is how healow serve and healow demo read PDFs' text: in a child, this program run
// as healow pdftext. When this program cannot be found, PDFs are listed as not searched, with
// why; they are never read in this process. Only healow's main may call it: in a test, this
// program is the test binary, which knows no pdftext (tests give the built healow instead).
func readPDFs() mcp.Option {
	exe, err := os.Executable()
	if err != nil {
		why := fmt.Errorf("PDFs are not read: healow could not find its own program to read them with (%v)", err)
		return mcp.ReadPDFs(func(context.Context, []byte) (string, error) { return "", why })
	}
	return mcp.ReadPDFs(pdfproc.NewRunner(exe, []string{"pdftext"}, actor.Real).Text)
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/pdfproc"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
)

// pdfData is one of recordindex's test PDFs.
func pdfData(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "mcp", "recordindex", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// healow pdftext writes a PDF's text, and refuses anything else with one word on stderr and
// status 3: nothing of what it was given comes back, on either stream.
func TestPDFTextCommandRefusesWithAReasonAndNoContent(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	run := func(stdin []byte) (stdout, stderr string, code int) {
		cmd := exec.CommandContext(t.Context(), bin, "pdftext")
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}
	if out, errOut, code := run(pdfData(t, "ghostscript.pdf")); code != 0 || errOut != "" || !strings.Contains(out, "persistent dyspnea") {
		t.Errorf("a PDF: status %d, %.80q, stderr %q", code, out, errOut)
	}
	for _, c := range []struct {
		name, stdin, want string
	}{
		{"not a PDF", "patient-secret: not a PDF at all", "malformed\n"},
		{"a table of a billion objects", "%PDF-1.4\npatient-secret\ntrailer << /Size 1000000000 >>\n%%EOF\n", "too-large\n"},
		{"a stream whose length runs past the file", "%PDF-1.4\n1 0 obj << /Length 999999999 /Filter /FlateDecode >> stream\npatient-secret\nendstream endobj\ntrailer << /Root 1 0 R /Size 2 >>\n%%EOF\n", "malformed\n"},
		{"over 2 MiB", "%PDF-1.4 patient-secret " + strings.Repeat("x", recordindex.MaxDocument), "too-large\n"},
		{"encrypted", string(pdfData(t, "encrypted.pdf")), "encrypted\n"},
	} {
		out, errOut, code := run([]byte(c.stdin))
		if code != 3 || out != "" || errOut != c.want || strings.Contains(errOut, "patient-secret") {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want 3 and %q", c.name, code, out, errOut, c.want)
		}
	}
}

// What reading one PDF costs in a child (healow pdftext started, fed, and waited for) and in
// process, for the sandbox-sized and a larger PDF.
func BenchmarkPDFText(b *testing.B) {
	runner := pdfproc.NewRunner(binary(b), []string{"pdftext"}, nil)
	for _, name := range []string{"reportlab.pdf", "weasyprint.pdf"} {
		data := pdfData(b, name)
		for _, how := range []struct {
			name string
			read recordindex.PDFReader
		}{{"in-process", recordindex.PDFText}, {"child", runner.Text}} {
			b.Run(strings.TrimSuffix(name, ".pdf")+"/"+how.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := how.read(context.Background(), data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

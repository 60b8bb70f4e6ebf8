package recordindex

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// testPDF is a PDF of the given objects (object 1 the catalog), its cross-reference table made
// from the real offsets; XREF in trailer stands for the table's own offset.
func testPDF(objects []string, trailer string) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	trailer = strings.ReplaceAll(trailer, "XREF", fmt.Sprint(xref))
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, trailer, xref)
	return out.Bytes()
}

// onePage is a catalog, a page tree of one page in Helvetica, and the page's content.
func onePage(content string) []string {
	return []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		content,
	}
}

func stream(data []byte) string {
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data)
}

func deflated(data []byte) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(data)
	w.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", b.Len(), b.Bytes())
}

// inflating is a stream of n MiB of one letter inside a string, compressed to about a
// thousandth of that.
func inflating(n int) string {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	w.Write([]byte("BT /F1 12 Tf ("))
	mib := bytes.Repeat([]byte("a"), 1<<20)
	for range n {
		w.Write(mib)
	}
	w.Write([]byte(") Tj ET"))
	w.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", b.Len(), b.Bytes())
}

// words is s as the index sees it, joined by single spaces, for comparing runs of words.
func words(s string) string { return strings.Join(Words(s), " ") }

// Files written by three common producers: their words come out whole, in order, with a space
// where a line ends, and letters beyond ASCII through the fonts' character maps.
func TestPDFTextReadsRealWorldFiles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file string
		want []string
	}{
		// PostScript through Ghostscript: Type 1 text, one line per Tj.
		{"ghostscript.pdf", []string{"referral note the patient was seen for persistent dyspnea and wheezing spirometry showed moderate obstruction", "follow up with pulmonology in six weeks"}},
		// HTML through WeasyPrint: subset TrueType fonts (Identity-H) with ToUnicode maps, in
		// object streams with a cross-reference stream (as qpdf rewrote it), a table, two columns.
		{"weasyprint.pdf", []string{"discharge summary referral note", "ldl 131 mg dl hemoglobin a1c 6 1", "lisinopril dosing", "café visits naïve résumé and smoking cessation"}},
		// The same as WeasyPrint wrote it: its fonts' glyph widths (/W) in plain sight.
		{"weasyprint-cidfonts.pdf", []string{"discharge summary referral note", "café visits naïve résumé and smoking cessation"}},
		// ReportLab: ASCII85 and Flate filters, justified paragraphs.
		{"reportlab.pdf", []string{"consultation report referral note", "albuterol was prescribed referral note", "justified text with café and naïve résumé words"}},
	} {
		data, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		text, err := PDFText(t.Context(), data)
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		got := words(text)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q not in %q", c.file, w, got)
			}
		}
	}
}

// Words are told apart by how the page moves between them, in files that write no space:
// a wide shift inside TJ, a new line, a new position; kerning keeps a word whole. Pages are
// read in order through a nested page tree, compressed or not.
func TestPDFTextSpacesWordsByPosition(t *testing.T) {
	t.Parallel()
	page1 := `BT /F1 12 Tf 72 720 Td [(Hemo) -30 (globin) -300 (A1c)] TJ 0 -14 Td (elevated) Tj 14 TL T* (since) Tj (March) ' 1 0 0 1 72 600 Tm (recheck)Tj ET`
	data := testPDF([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 /Resources << /Font << /F1 4 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /Contents 5 0 R >>", // fonts inherited from the tree
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		deflated([]byte(page1)),
		"<< /Type /Pages /Parent 2 0 R /Kids [7 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 6 0 R /Contents [8 0 R 9 0 R] >>",
		stream([]byte("BT /F1 12 Tf (second) Tj")),
		stream([]byte("T* (page\\222s end) Tj ET")), // WinAnsi 0x92 is a right single quote
	}, "")
	text, err := PDFText(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := words(text), "hemoglobin a1c elevated since march recheck second page s end"; got != want {
		t.Errorf("words %q, want %q", got, want)
	}
	if !strings.Contains(text, "page\u2019s end") {
		t.Errorf("WinAnsi not decoded: %q", text)
	}
	if i, j := strings.Index(text, "recheck"), strings.Index(text, "second"); i < 0 || j < i {
		t.Errorf("pages out of order: %q", text)
	}
}

// xrefStreamPDF is a catalog and a cross-reference stream (W [1 2 1], not compressed) that
// places object 3, the page tree, in object stream holder.
func xrefStreamPDF(holder int) []byte {
	var out bytes.Buffer
	out.WriteString("%PDF-1.5\n")
	catalog := out.Len()
	out.WriteString("1 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n")
	xref := out.Len()
	entries := []byte{0, 0, 0, 255, 1, byte(catalog >> 8), byte(catalog), 0, 1, byte(xref >> 8), byte(xref), 0, 2, 0, byte(holder), 0}
	fmt.Fprintf(&out, "2 0 obj\n<< /Type /XRef /Size 4 /W [1 2 1] /Root 1 0 R /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(entries), entries)
	fmt.Fprintf(&out, "startxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes()
}

// A long document is read to its 100th page, within the read budget that the parser's re-reads
// count against: it reads an object again each time it is used.
func TestPDFTextReadsAHundredPages(t *testing.T) {
	t.Parallel()
	objects := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
	var kids []string
	for n := 1; n <= 120; n++ {
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objects)+1))
		objects = append(objects,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", len(objects)+2),
			deflated([]byte(fmt.Sprintf("BT /F1 12 Tf 72 720 Td (Page%03d of the letter) Tj ET", n))))
	}
	objects[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 120 >>", strings.Join(kids, " "))
	text, err := PDFText(t.Context(), testPDF(objects, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Page001 of") || !strings.Contains(text, "Page100 of") || strings.Contains(text, "Page101") {
		t.Errorf("pages read: %q … %q", cut(text, 40), text[max(0, len(text)-40):])
	}
}

// A hostile or broken file ends with a reason, never a crash or a hang: each of these hangs the
// parser alone, fills memory, or panics in it.
func TestPDFTextRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	encrypted, err := os.ReadFile("testdata/encrypted.pdf")
	if err != nil {
		t.Fatal(err)
	}
	good := onePage(stream([]byte("BT /F1 12 Tf (fine) Tj ET")))
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"encrypted with a password (AES-256)", encrypted, ErrPDFEncrypted},
		{"not a PDF", []byte("<html>hello</html>"), ErrPDFMalformed},
		{"empty", nil, ErrPDFMalformed},
		{"cut short", testPDF(good, "")[:300], ErrPDFMalformed},
		{"a cross-reference chain that loops", testPDF(good, "/Prev XREF"), ErrPDFTooLarge},
		{"a page tree whose kid is itself", testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 5 >>"}, ""), ErrPDFNoText},
		{"a page tree whose kids loop", testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 9 >>", "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 9 >>"}, ""), ErrPDFNoText},
		{"two billion pages counted, none there", testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 2000000000 >>"}, ""), ErrPDFNoText},
		{"a stream that inflates to 64 MiB", testPDF(onePage(inflating(64)), ""), ErrPDFTooLarge},
		{"a page larger than a page's bound", testPDF(onePage(deflated(bytes.Repeat([]byte("q Q "), 200_000))), ""), ErrPDFTooLarge},
		{"six pages of 240,000 operators", testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 3 0 R 3 0 R 3 0 R 3 0 R 3 0 R] /Count 6 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>", deflated(bytes.Repeat([]byte("q Q "), 120_000))}, ""), ErrPDFTooLarge},
		{"arrays nested a hundred thousand deep", testPDF(onePage(stream([]byte("BT ["+strings.Repeat("[", 100_000)+" ET"))), ""), ErrPDFNoText},
		{"objects nested beyond the parser's depth", testPDF([]string{"<< /Type /Catalog /Pages " + strings.Repeat("[", 5000) + " >>"}, ""), ErrPDFMalformed},
		{"a page's content that names itself", testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>", "<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>"}, ""), ErrPDFMalformed},
		{"an object stream that holds itself", xrefStreamPDF(3), ErrPDFTooLarge},
		{"an object in a stream that is no object stream", xrefStreamPDF(1), ErrPDFMalformed},
		{"a cross-reference table of a billion objects", []byte(strings.Replace(string(testPDF(good, "")), "xref\n0 6", "xref\n999999999 6", 1)), ErrPDFTooLarge},
		{"a cross-reference stream of a billion objects", bytes.Replace(xrefStreamPDF(1), []byte("/Size 4"), []byte("/Si#7Ae 999999999"), 1), ErrPDFTooLarge},
		{"fields a gigabyte wide", bytes.Replace(xrefStreamPDF(1), []byte("/W [1 2 1]"), []byte("/W [1 2 999999999]"), 1), ErrPDFTooLarge},
		// Keys and values paired otherwise by the parser than they look: /Q /Type, /Size 999999999.
		{"a /Size behind a name that looks like a key", bytes.Replace(xrefStreamPDF(1), []byte("/Size 4"), []byte("/Q /Type /Size 999999999"), 1), ErrPDFTooLarge},
		{"/W behind a name that looks like a key", bytes.Replace(xrefStreamPDF(1), []byte("/W [1 2 1]"), []byte("/Q /Type /W [1 2 999999999]"), 1), ErrPDFTooLarge},
		{"decoding parameters written as a reference", testPDF(onePage("<< /Length 4 /Filter /FlateDecode /DecodeParms 6 0 R >>\nstream\nabcd\nendstream"), ""), ErrPDFTooLarge},
		{"a predictor's columns written as a reference", testPDF(onePage("<< /Length 4 /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 6 0 R >> >>\nstream\nabcd\nendstream"), ""), ErrPDFTooLarge},
		{"a predictor's row of 2^40 bytes", testPDF(onePage("<< /Length 4 /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 1099511627776 >> >>\nstream\nabcd\nendstream"), ""), ErrPDFTooLarge},
		{"an unknown filter", testPDF(onePage("<< /Length 4 /Filter /NoSuchDecode >>\nstream\nabcd\nendstream"), ""), ErrPDFMalformed},
		{"only an image", testPDF(onePage(stream([]byte("q 100 0 0 100 0 0 cm /Im1 Do Q"))), ""), ErrPDFNoText},
	} {
		text, err := PDFText(t.Context(), c.data)
		if !errors.Is(err, c.want) || text != "" {
			t.Errorf("%s: %q, %v; want %v", c.name, cut(text, 40), err, c.want)
		}
	}
}

// countdown is a context cancelled after its Err has been asked n times: a cancellation in
// the middle of a read, found without a clock.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// A cancelled build stops reading a PDF at the next read of the file or the next thousand
// operators, wherever the parser is.
func TestPDFTextStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	data := testPDF(onePage(deflated(bytes.Repeat([]byte("BT /F1 12 Tf (word) Tj ET "), 20_000))), "")
	if _, err := PDFText(t.Context(), data); err != nil {
		t.Fatalf("uncancelled: %v", err)
	}
	for _, n := range []int{0, 1, 3, 10} {
		ctx := &countdown{Context: t.Context(), n: n}
		if text, err := PDFText(ctx, data); !errors.Is(err, context.Canceled) || text != "" {
			t.Errorf("cancelled after %d checks: %q, %v", n, cut(text, 40), err)
		}
	}
}

// A PDF reaches the index through DocumentText, by its content type, read by the reader it is
// given and by none without one.
func TestDocumentTextReadsPDF(t *testing.T) {
	t.Parallel()
	data := testPDF(onePage(stream([]byte("BT /F1 12 Tf (Question for the consultant) Tj ET"))), "")
	text, err := DocumentText(t.Context(), "application/pdf", data, PDFText)
	if err != nil || !strings.Contains(text, "consultant") {
		t.Errorf("%q, %v", text, err)
	}
	if text, err := DocumentText(t.Context(), "application/pdf", data, nil); err != ErrPDFNotRead || text != "" {
		t.Errorf("without a reader: %q, %v", text, err)
	}
	if !Reads("application/pdf") || Reads("image/png") || !Reads("text/plain; charset=utf-8") {
		t.Error("Reads disagrees with DocumentText")
	}
}

// FuzzPDFText: whatever the bytes, PDFText returns (no panic escapes, no hang, no memory past
// the fuzzer's limit), with text that is valid UTF-8 without control characters and within its
// bound, or with one of its reasons.
func FuzzPDFText(f *testing.F) {
	for _, name := range []string{"ghostscript.pdf", "weasyprint.pdf", "weasyprint-cidfonts.pdf", "reportlab.pdf", "encrypted.pdf"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(testPDF(onePage(stream([]byte("BT /F1 12 Tf [(a) -300 (b)] TJ 0 -14 Td (c) Tj T* (d) ' ET"))), ""))
	f.Add(testPDF(onePage(deflated([]byte("BT /F1 12 Tf (compressed) Tj ET"))), ""))
	// Loops that end at the read budget (TestPDFTextRefusesHostileFiles has them) are left out:
	// each costs tens of milliseconds, and the fuzzer would spend its time on their mutations.
	f.Add(testPDF([]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] /Count 5 >>"}, ""))
	f.Add(xrefStreamPDF(1))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := PDFText(t.Context(), data)
		if err != nil {
			if text != "" {
				t.Errorf("text beside an error: %v", err)
			}
			for _, reason := range []error{ErrPDFEncrypted, ErrPDFTooLarge, ErrPDFMalformed, ErrPDFNoText} {
				if errors.Is(err, reason) {
					return
				}
			}
			t.Fatalf("an error without a reason: %v", err)
		}
		if !utf8.ValidString(text) || len(text) > pdfMaxText {
			t.Fatalf("text of %d bytes, valid UTF-8 %v", len(text), utf8.ValidString(text))
		}
		for _, r := range text {
			if r != '\n' && unicode.IsControl(r) {
				t.Fatalf("control character %U in the text", r)
			}
		}
	})
}

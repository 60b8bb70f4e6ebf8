package recordindex

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"
)

// A PDF is read with github.com/ledongthuc/pdf, which parses the file and decodes fonts (the
// ToUnicode maps Word and browsers write) but trusts what it reads: a page tree that loops, a
// cross-reference chain that points back at itself or a compressed stream that inflates to
// gigabytes hang it or fill memory, and a few numbers written large end the process. So it is
// never let loose on a document: the file's tables are checked first (pdfSane), the page tree
// is walked here with bounds, every read of the file passes through a budget that also watches
// the context, each stream is measured inflated before it is parsed, and the content operators
// are counted. The limits are far above a clinical document's (a few pages of text, tens of KB of
// content each) and far below what would hurt the server.
const (
	pdfMaxPages   = 100       // pages read; the rest of a longer document is not
	pdfMaxStream  = 512 << 10 // one page's content, or one font's character map, inflated
	pdfMaxInflate = 16 << 20  // all the streams of the document, inflated
	pdfReadFactor = 32        // bytes read from the file, counting each read again, in times its size
	pdfReadExtra  = 256 << 10 // (the parser reads an object again each time it is used), and this more
	pdfMaxOps     = 1 << 20   // content operators interpreted, over all pages
	pdfMaxText    = MaxPDFText
	pdfMaxNodes   = 4 * pdfMaxPages
	pdfMaxDepth   = 32
)

// MaxPDFText is the most text PDFText returns, in bytes.
const MaxPDFText = 512 << 10

// Why a PDF's text could not be read: the index lists the document as unsearchable, with this.
var (
	ErrPDFEncrypted = errors.New("the PDF is encrypted")
	ErrPDFTooLarge  = errors.New("the PDF is too large or too complex to read")
	ErrPDFMalformed = errors.New("the PDF is damaged or not one")
	ErrPDFNoText    = errors.New("the PDF has no text (a scan or an image)")
)

// pdfStop is what a bound panics with, to leave the parser from wherever it is.
type pdfStop struct{ err error }

// pdfBudget is the file as the parser sees it: every read is counted, and the context checked.
type pdfBudget struct {
	ctx     context.Context
	r       *bytes.Reader
	read    int64
	inflate int64
	ops     int
	stop    error // the first bound reached; every later read or operator stops again
}

func (b *pdfBudget) halt(err error) {
	if b.stop == nil {
		b.stop = err
	}
	panic(pdfStop{b.stop})
}

func (b *pdfBudget) check() {
	if b.stop != nil {
		b.halt(b.stop)
	}
	if err := b.ctx.Err(); err != nil {
		b.halt(err)
	}
}

func (b *pdfBudget) ReadAt(p []byte, off int64) (int, error) {
	b.check()
	if b.read += int64(len(p)); b.read > pdfReadFactor*b.r.Size()+pdfReadExtra {
		b.halt(ErrPDFTooLarge)
	}
	return b.r.ReadAt(p, off)
}

// measure inflates v (a stream, or an array of them) once without keeping it, so that the
// parser never meets a stream larger than pdfMaxStream.
func (b *pdfBudget) measure(v pdf.Value) {
	var n int64
	add := func(s pdf.Value) {
		if s.Kind() != pdf.Stream {
			return
		}
		if s.Key("DecodeParms").Key("Columns").Int64() > pdfMaxColumns { // it may be out of pdfSane's sight, in an object stream
			b.halt(ErrPDFTooLarge)
		}
		rd := s.Reader()
		defer rd.Close()
		m, _ := io.Copy(io.Discard, io.LimitReader(rd, pdfMaxStream+1-n))
		n += m
	}
	if v.Kind() == pdf.Array {
		for i := 0; i < v.Len() && n <= pdfMaxStream; i++ {
			add(v.Index(i))
		}
	} else {
		add(v)
	}
	if b.inflate += n; n > pdfMaxStream || b.inflate > pdfMaxInflate {
		b.halt(ErrPDFTooLarge)
	}
}

// PDFText is the text of a PDF's pages, in the order they draw it, a space where they move to
// another place, read within the bounds above. An encrypted PDF is refused: the patient's
// portal has no password to give, and an index of what it hides would say more than the
// practice meant to.
func PDFText(ctx context.Context, data []byte) (text string, err error) {
	b := &pdfBudget{ctx: ctx, r: bytes.NewReader(data)}
	var out strings.Builder
	// What the library says of a file is not passed on: it can quote the file at any length.
	defer func() {
		if r := recover(); r != nil {
			text, err = "", ErrPDFMalformed
			if b.stop != nil {
				err = b.stop
			}
		}
	}()
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !pdfSane(data) {
		return "", ErrPDFTooLarge
	}
	rd, err := pdf.NewReader(b, int64(len(data)))
	if b.stop != nil { // the reader turns a panic in its reads into an error of its own
		return "", b.stop
	}
	if err != nil {
		if bytes.Contains(data, []byte("/Encrypt")) {
			return "", ErrPDFEncrypted
		}
		return "", ErrPDFMalformed
	}
	if rd.Trailer().Key("Encrypt").Kind() != pdf.Null {
		return "", ErrPDFEncrypted
	}
	for i, p := range pdfPages(rd.Trailer().Key("Root").Key("Pages")) {
		if i > 0 {
			out.WriteString("\n\n")
		}
		b.pageText(p, &out)
		if out.Len() >= pdfMaxText {
			break
		}
	}
	text = out.String()
	text = cleanText(text[:min(len(text), pdfMaxText)])
	if strings.TrimSpace(text) == "" {
		return "", ErrPDFNoText
	}
	return text, nil
}

// pdfPages walks the page tree depth first, at most pdfMaxPages pages, pdfMaxNodes nodes and
// pdfMaxDepth levels: a tree whose kids name their ancestors ends there instead of looping.
func pdfPages(root pdf.Value) []pdf.Page {
	var pages []pdf.Page
	nodes := 0
	var walk func(v pdf.Value, depth int)
	walk = func(v pdf.Value, depth int) {
		if nodes++; nodes > pdfMaxNodes || depth > pdfMaxDepth || len(pages) >= pdfMaxPages || v.Kind() != pdf.Dict {
			return
		}
		if kids := v.Key("Kids"); kids.Kind() == pdf.Array && v.Key("Type").Name() != "Page" {
			for i := 0; i < kids.Len() && nodes <= pdfMaxNodes; i++ {
				walk(kids.Index(i), depth+1)
			}
			return
		}
		pages = append(pages, pdf.Page{V: v})
	}
	walk(root, 0)
	return pages
}

// pageText interprets a page's content, keeping only what shows text.
func (b *pdfBudget) pageText(p pdf.Page, out *strings.Builder) {
	content := p.V.Key("Contents")
	if content.Kind() == pdf.Null {
		return
	}
	b.measure(content)
	t := &pdfText{budget: b, page: p, out: out, fonts: map[string]pdf.TextEncoding{}}
	// Each stream of an array is read alone: a file that ends one without a space would
	// otherwise run its last operator into the next one's first.
	if content.Kind() == pdf.Array {
		for i := 0; i < content.Len(); i++ {
			pdf.Interpret(content.Index(i), t.do)
		}
	} else {
		pdf.Interpret(content, t.do)
	}
	out.WriteByte('\n')
}

// pdfText is one page's text as its content is interpreted.
type pdfText struct {
	budget *pdfBudget
	page   pdf.Page
	out    *strings.Builder
	fonts  map[string]pdf.TextEncoding
	enc    pdf.TextEncoding // the current font's; nil before any
}

func (t *pdfText) show(s pdf.Value) {
	if t.enc != nil && t.out.Len() < pdfMaxText {
		t.out.WriteString(t.enc.Decode(s.RawString()))
	}
}

// do is one operator, its operands on stk.
func (t *pdfText) do(stk *pdf.Stack, op string) {
	b := t.budget
	if b.ops++; b.ops > pdfMaxOps {
		b.halt(ErrPDFTooLarge)
	}
	if b.ops%1024 == 0 {
		b.check()
	}
	args := make([]pdf.Value, stk.Len())
	for i := len(args) - 1; i >= 0; i-- {
		args[i] = stk.Pop()
	}
	switch op {
	case "BT", "Td", "TD", "Tm":
		t.out.WriteByte(' ')
	case "T*":
		t.out.WriteByte('\n')
	case "Tf":
		if len(args) != 2 {
			return
		}
		name := args[0].Name()
		enc, ok := t.fonts[name]
		if !ok {
			enc = b.font(t.page, name)
			t.fonts[name] = enc
		}
		t.enc = enc
	case "'", "\"":
		t.out.WriteByte('\n')
		if len(args) > 0 {
			t.show(args[len(args)-1])
		}
	case "Tj":
		if len(args) == 1 {
			t.show(args[0])
		}
	case "TJ":
		if len(args) != 1 {
			return
		}
		for i := 0; i < args[0].Len(); i++ {
			switch x := args[0].Index(i); x.Kind() {
			case pdf.String:
				t.show(x)
			case pdf.Integer, pdf.Real:
				// A shift of a fifth of an em or more is a space between words, in files
				// that set no space character (TeX's, for one); kerning is less.
				if x.Float64() <= -200 {
					t.out.WriteByte(' ')
				}
			}
		}
	}
}

// font is how a page's font maps its codes to text, its character map measured first.
func (b *pdfBudget) font(p pdf.Page, name string) pdf.TextEncoding {
	f := p.Font(name)
	if f.V.Kind() != pdf.Dict {
		return nil
	}
	b.measure(f.V.Key("ToUnicode"))
	return f.Encoder()
}

// cleanText drops what a font's codes decode to that is no text: control characters and
// broken UTF-8 become spaces, so that they neither join words nor reach a snippet.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\n' || !unicode.IsControl(r) && r != '\uFFFD' {
			return r
		}
		return ' '
	}, s)
}

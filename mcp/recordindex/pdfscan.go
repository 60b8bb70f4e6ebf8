package recordindex

import (
	"bytes"
	"compress/zlib"
	"io"
	"strconv"
	"strings"
)

// The parser sizes tables by numbers it reads from the file before anything can bound it: a
// cross-reference table of /Size entries, a subsection starting at object n, fields /W bytes
// wide, rows /Columns long. One number written large is gigabytes, and an allocation that
// fails ends the process, not the call. So the file's tokens are read once first, and a file
// that asks for more than these is refused before the parser sees it.
const (
	pdfMaxObjects = 1 << 18 // object numbers: far more than any document's
	pdfMaxWidth   = 8       // bytes of one field of a cross-reference stream
	pdfMaxColumns = 1 << 16 // a predictor's row
)

// pdfSane reports whether data's cross-reference tables, their streams' /Size, /W and /Index,
// and every /Columns, stay within the bounds above, and whether its cross-reference streams
// place objects only in object streams that are not themselves in one (the parser follows such
// a chain by recursion, with no read to stop it, until the stack overflows).
//
// The parser starts where the file's offsets say, which may be inside a string, a comment or
// a stream's data: so nothing is skipped here, strings and comments are read as tokens too,
// and a table is looked for after every "xref" in the file.
func pdfSane(data []byte) bool {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte("xref"))
		if i < 0 {
			break
		}
		off += i + len("xref")
		t := pdfScanner{data: data, pos: off, lexical: true}
		if !t.xrefTable() {
			return false
		}
	}
	// Read as the lexer reads from the file's start, comments and strings passed over; and
	// again with them read as tokens, for an offset that lands inside one.
	for _, lexical := range []bool{true, false} {
		s := pdfScanner{data: data, lexical: lexical, inStream: map[int64]bool{}, holders: map[int64]bool{}}
		for {
			tok, ok := s.next()
			if !ok {
				break
			}
			if !s.token(tok) {
				return false
			}
		}
		for h := range s.holders {
			if s.inStream[h] {
				return false
			}
		}
	}
	return true
}

// token checks one token, reading the values that follow it where it names one.
func (s *pdfScanner) token(tok string) bool {
	switch tok {
	case "obj":
		s.obj = pdfXRefDict{}
	case "/Type":
		if s.value() == "/XRef" { // a later /Type, paired otherwise by the parser, does not undo it
			s.obj.isXRef = true
		}
	case "/Size":
		return s.intAtMost(pdfMaxObjects, nil)
	case "/Columns":
		return !s.reference() && s.intAtMost(pdfMaxColumns, &s.obj.columns)
	case "/DecodeParms":
		// Written indirectly, the parameters (and their /Columns) could be inside an object
		// stream, out of this scan's sight; no producer writes them so.
		return !s.reference()
	case "/Predictor":
		return s.intAtMost(1<<31, &s.obj.predictor)
	case "/Filter":
		s.obj.filter = s.value()
	case "/W": // a font's glyph widths too, checked only when this is a cross-reference stream
		s.obj.w = s.ints()
	case "/Index":
		s.obj.index = s.ints()
	case "stream":
		end := bytes.Index(s.data[s.pos:], []byte("endstream"))
		if end < 0 {
			end = len(s.data) - s.pos
		}
		data := s.data[s.pos : s.pos+end]
		if s.lexical { // as the lexer passes over a stream's data
			s.pos += end
		}
		if s.obj.isXRef {
			return s.obj.bounded() && s.xrefStream(data)
		}
	}
	return true
}

// pdfXRefDict is what pdfSane keeps of the object it is in, for when it is a cross-reference
// stream.
type pdfXRefDict struct {
	isXRef             bool
	filter             string
	predictor, columns int64
	w, index           []int64
}

// bounded says whether a cross-reference stream's fields and subsections are within bounds.
func (d pdfXRefDict) bounded() bool {
	for _, v := range d.w {
		if v < 0 || v > pdfMaxWidth {
			return false
		}
	}
	for i := 0; i+1 < len(d.index); i += 2 {
		if d.index[i] < 0 || d.index[i+1] < 0 || d.index[i]+d.index[i+1] > pdfMaxObjects {
			return false
		}
	}
	return true
}

// xrefStream reads a cross-reference stream's entries as the parser would, noting which
// objects are in object streams and which object streams hold them. One it cannot read the
// same way is refused.
func (s *pdfScanner) xrefStream(raw []byte) bool {
	d := s.obj
	if raw = bytes.TrimPrefix(raw, []byte("\r")); len(raw) > 0 && raw[0] == '\n' {
		raw = raw[1:]
	}
	var rd io.Reader = bytes.NewReader(raw)
	switch d.filter {
	case "":
	case "/FlateDecode":
		zr, err := zlib.NewReader(rd)
		if err != nil {
			return false
		}
		rd = zr
	default:
		return false
	}
	if len(d.w) < 3 || d.predictor != 0 && d.predictor != 12 {
		return false
	}
	width := int(d.w[0] + d.w[1] + d.w[2])
	var rows []byte
	data, _ := io.ReadAll(io.LimitReader(rd, int64(width+1)*pdfMaxObjects))
	if d.predictor == 12 {
		cols := int(d.columns)
		if cols <= 0 {
			return false
		}
		hist := make([]byte, cols+1)
		for ; len(data) >= cols+1; data = data[cols+1:] {
			if data[0] != 2 {
				break
			}
			for i, b := range data[:cols+1] {
				hist[i] += b
			}
			rows = append(rows, hist[1:]...)
		}
	} else {
		rows = data
	}
	field := func(b []byte) int64 {
		var v int64
		for _, c := range b {
			v = v<<8 | int64(c)
		}
		return v
	}
	index := d.index
	if index == nil {
		index = []int64{0, int64(len(rows) / max(width, 1))}
	}
	for i := 0; i+1 < len(index); i += 2 {
		for n := range index[i+1] {
			if len(rows) < width || width == 0 {
				return true
			}
			e := rows[:width]
			rows = rows[width:]
			typ := int64(1)
			if d.w[0] > 0 {
				typ = field(e[:d.w[0]])
			}
			if typ == 2 {
				s.inStream[index[i]+n] = true
				s.holders[field(e[d.w[0]:d.w[0]+d.w[1]])] = true
			}
		}
	}
	return true
}

// pdfScanner splits a PDF into tokens as the parser's lexer does for what pdfSane reads:
// names (their escapes decoded), numbers, keywords and delimiters, whitespace skipped, and
// when lexical, comments and strings skipped too.
type pdfScanner struct {
	data    []byte
	pos     int
	lexical bool
	pending string // a token read ahead, to be read again

	obj      pdfXRefDict
	inStream map[int64]bool // objects a cross-reference stream places in an object stream
	holders  map[int64]bool // the object streams it names for them
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0
}

// reference says whether the next tokens are an indirect reference ("12 0 R"), without reading
// them.
func (s *pdfScanner) reference() bool {
	pos, pending := s.pos, s.pending
	defer func() { s.pos, s.pending = pos, pending }()
	var toks [3]string
	for i := range toks {
		toks[i], _ = s.next()
	}
	_, err1 := strconv.ParseUint(toks[0], 10, 64)
	_, err2 := strconv.ParseUint(toks[1], 10, 64)
	return err1 == nil && err2 == nil && toks[2] == "R"
}

// value is the token after a key. A name is left to be read next as a key in its own right:
// the parser may pair the file's tokens otherwise than here ("/A /Type /Size 9999999" is, to
// it, /A /Type and /Size 9999999).
func (s *pdfScanner) value() string {
	tok, _ := s.next()
	if strings.HasPrefix(tok, "/") {
		s.pending = tok
	}
	return tok
}

func (s *pdfScanner) next() (string, bool) {
	if tok := s.pending; tok != "" {
		s.pending = ""
		return tok, true
	}
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case isPDFSpace(c):
			s.pos++
		case s.lexical && c == '%':
			for s.pos < len(s.data) && s.data[s.pos] != '\n' && s.data[s.pos] != '\r' {
				s.pos++
			}
		case s.lexical && c == '(':
			s.skipString()
		case c == '/':
			// A name's #xx escapes are decoded, as the parser does: /Si#7Ae is /Size.
			name := []byte{'/'}
			for s.pos++; s.pos < len(s.data) && !isPDFSpace(s.data[s.pos]) && !isPDFDelim(s.data[s.pos]); s.pos++ {
				if s.data[s.pos] == '#' && s.pos+2 < len(s.data) {
					if x, err := strconv.ParseUint(string(s.data[s.pos+1:s.pos+3]), 16, 8); err == nil {
						name = append(name, byte(x))
						s.pos += 2
						continue
					}
				}
				name = append(name, s.data[s.pos])
			}
			return string(name), true
		case isPDFDelim(c):
			s.pos++
			return string(c), true
		default:
			start := s.pos
			for s.pos < len(s.data) && !isPDFSpace(s.data[s.pos]) && !isPDFDelim(s.data[s.pos]) {
				s.pos++
			}
			return string(s.data[start:s.pos]), true
		}
	}
	return "", false
}

// skipString passes a literal string, its parentheses nested and escaped as the lexer reads them.
func (s *pdfScanner) skipString() {
	depth := 0
	for ; s.pos < len(s.data); s.pos++ {
		switch s.data[s.pos] {
		case '\\':
			s.pos++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				s.pos++
				return
			}
		}
	}
}

// intAtMost reads the next token: a number at most limit passes (kept in v if v is not nil),
// and so does anything that is no number (an indirect reference is checked where PDFText
// reads it).
func (s *pdfScanner) intAtMost(limit int64, v *int64) bool {
	tok := s.value()
	f, err := strconv.ParseFloat(tok, 64)
	if err == nil && v != nil {
		*v = int64(f)
	}
	return err != nil || f <= float64(limit)
}

// ints reads "[ integers ]"; anything else is nil.
func (s *pdfScanner) ints() []int64 {
	if s.value() != "[" {
		return nil
	}
	vs := []int64{}
	for {
		tok, more := s.next()
		if !more || tok == "]" {
			return vs
		}
		v, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return nil
		}
		vs = append(vs, v)
	}
}

// xrefTable reads a cross-reference table's subsections from where the parser would, after
// the keyword: each "start count" then count entries of offset, generation and f or n, until
// the trailer. The parser makes room for entry start+i once it has read that entry, so an
// entry past pdfMaxObjects is what is refused.
func (s *pdfScanner) xrefTable() bool {
	for {
		tok, _ := s.next()
		start, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return true // the trailer, or no table: the parser reads no further either
		}
		tok, _ = s.next()
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return true
		}
		for i := int64(0); i < n; i++ {
			off, _ := s.next()
			gen, _ := s.next()
			kind, _ := s.next()
			_, err1 := strconv.ParseInt(off, 10, 64)
			_, err2 := strconv.ParseInt(gen, 10, 64)
			if err1 != nil || err2 != nil || kind != "f" && kind != "n" {
				return true
			}
			if start+i > pdfMaxObjects || start+i < 0 {
				return false
			}
		}
	}
}

package recordindex

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"regexp"
	"strings"
)

// skipped are members whose strings are machinery, not what a person wrote or reads: ids,
// references, code systems, URLs, inline data.
var skipped = map[string]bool{
	"id": true, "reference": true, "system": true, "url": true, "fullUrl": true, "data": true,
	"resourceType": true, "profile": true, "versionId": true, "lastUpdated": true, "hash": true,
	"contentType": true,
}

// titled are members whose text names what a resource is.
var titled = map[string]bool{"code": true, "type": true, "medicationCodeableConcept": true, "vaccineCode": true,
	"title": true, "description": true}

// ResourceText is the words of a FHIR resource a person would search for: its name (code,
// type, title) as title, every other human-readable string as text. Narrative XHTML is reduced
// to its text.
func ResourceText(raw json.RawMessage) (title, text string) {
	var v map[string]any
	if json.Unmarshal(raw, &v) != nil {
		return "", ""
	}
	var t, x strings.Builder
	for k, m := range v {
		if skipped[k] {
			continue
		}
		if titled[k] {
			walk(m, &t)
		} else {
			walk(m, &x)
		}
	}
	return strings.TrimSpace(t.String()), strings.TrimSpace(x.String())
}

func walk(v any, b *strings.Builder) {
	switch v := v.(type) {
	case string:
		if strings.HasPrefix(v, "<div") {
			v = MarkupText([]byte(v))
		}
		b.WriteString(v)
		b.WriteByte('\n')
	case []any:
		for _, e := range v {
			walk(e, b)
		}
	case map[string]any:
		for k, e := range v {
			if !skipped[k] {
				walk(e, b)
			}
		}
	}
}

// ErrNotText is what DocumentText says of content it cannot read as text (an image, a video).
var ErrNotText = errors.New("not a text format the index reads")

// ErrPDFNotRead is what DocumentText says of a PDF when it is given no PDFReader.
var ErrPDFNotRead = errors.New("PDFs are not read by this server")

// MaxDocument is the most of a document's content that is read; past it, none is.
const MaxDocument = 2 << 20

// PDFReader reads a PDF's text, as PDFText does: PDFText itself, or a reader that runs it where
// a fatal error cannot reach the server (healow reads PDFs in a child process).
type PDFReader func(ctx context.Context, data []byte) (string, error)

// DocumentText is the text of a document's content: plain text as is, HTML and XML (C-CDA)
// reduced to their text nodes, RTF stripped of its control words, a PDF's text read by readPDF
// (nil reads none), as long as ctx lasts.
func DocumentText(ctx context.Context, contentType string, data []byte, readPDF PDFReader) (string, error) {
	switch format(contentType) {
	case "markup":
		return MarkupText(data), nil
	case "rtf":
		return RTFText(data), nil
	case "text":
		return strings.ToValidUTF8(string(data), "\uFFFD"), nil
	case "pdf":
		if readPDF == nil {
			return "", ErrPDFNotRead
		}
		return readPDF(ctx, data)
	}
	return "", ErrNotText
}

// Reads says whether DocumentText reads content of this type, before it is fetched.
func Reads(contentType string) bool { return format(contentType) != "" }

func format(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case mt == "text/html", mt == "application/xhtml+xml", mt == "application/xml", mt == "text/xml", strings.HasSuffix(mt, "+xml"):
		return "markup"
	case mt == "text/rtf", mt == "application/rtf":
		return "rtf"
	case strings.HasPrefix(mt, "text/"):
		return "text"
	case mt == "application/pdf":
		return "pdf"
	}
	return ""
}

// MarkupText is the text nodes of HTML or XML, read leniently: HTML is not XML, and a broken
// tag ends the text, not the index.
func MarkupText(data []byte) string {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var b strings.Builder
	skip := 0 // inside <script> or <style>
	for {
		tok, err := d.Token()
		if err == io.EOF || err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if n := strings.ToLower(tok.Name.Local); n == "script" || n == "style" {
				skip++
			}
		case xml.EndElement:
			if n := strings.ToLower(tok.Name.Local); (n == "script" || n == "style") && skip > 0 {
				skip--
			}
		case xml.CharData:
			if skip == 0 {
				b.Write(tok)
				b.WriteByte(' ')
			}
		}
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

var (
	rtfGroup   = regexp.MustCompile(`\{\\\*[^{}]*\}|\{\\(fonttbl|colortbl|stylesheet|info)[^{}]*(\{[^{}]*\}[^{}]*)*\}`)
	rtfControl = regexp.MustCompile(`\\([a-zA-Z]+)(-?\d+)? ?|\\'[0-9a-fA-F]{2}|\\[^a-zA-Z]`)
)

// RTFText is simple RTF's text: font and colour tables dropped, control words removed, \par
// a line break, escaped braces and backslashes kept. Embedded objects are not read.
func RTFText(data []byte) string {
	s := rtfGroup.ReplaceAllString(string(data), "")
	s = rtfControl.ReplaceAllStringFunc(s, func(c string) string {
		switch {
		case c == `\\`:
			return `\`
		case c == `\{`:
			return "\uE000" // kept from the brace stripping below
		case c == `\}`:
			return "\uE001"
		case strings.HasPrefix(c, `\par`), strings.HasPrefix(c, `\line`):
			return "\n"
		case strings.HasPrefix(c, `\tab`):
			return "\t"
		}
		return " "
	})
	s = strings.NewReplacer("{", "", "}", "", "\uE000", "{", "\uE001", "}").Replace(s)
	return strings.ToValidUTF8(s, "\uFFFD")
}

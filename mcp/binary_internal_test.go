package mcp

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Long text comes back in parts that never split a character and add up to the whole.
func TestBinaryTextInParts(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("Résumé of the visit — ünïcode ✓\n", 6000) // about 200 KiB
	b := binary{contentType: "text/plain; charset=utf-8", data: []byte(text)}
	var got strings.Builder
	offset, calls := 0, 0
	for {
		res, _, err := b.result("Binary/x", "https://h/Binary/x", offset)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		var head struct {
			Size       int  `json:"size"`
			Returned   int  `json:"returned"`
			NextOffset *int `json:"next_offset"`
		}
		json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &head)
		part := res.Content[1].(*sdk.TextContent).Text
		if len(part) > MaxResultBytes || len(part) != head.Returned || head.Size != len(text) {
			t.Fatalf("part of %d bytes, head %+v", len(part), head)
		}
		got.WriteString(part)
		if head.NextOffset == nil {
			break
		}
		offset = *head.NextOffset
	}
	if got.String() != text || calls != 4 {
		t.Fatalf("%d calls rebuilt %d of %d bytes", calls, got.Len(), len(text))
	}
	if _, _, err := b.result("Binary/x", "u", len(text)+1); err == nil || !strings.Contains(err.Error(), "offset:") {
		t.Errorf("an offset past the end: %v", err)
	}
	png := binary{contentType: "image/png", data: []byte("\x89PNG")}
	if _, _, err := png.result("Binary/x", "u", 10); err == nil || !strings.Contains(err.Error(), "offset: only text") {
		t.Errorf("an offset into an image: %v", err)
	}
}

func TestBinaryKinds(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]string{
		"text/plain": "text", "text/html; charset=utf-8": "text", "text/rtf": "text", "application/rtf": "text",
		"application/xml": "text", "text/xml": "text", "application/hl7-v3+xml": "text", "application/fhir+json": "text",
		"image/png": "image", "image/jpeg": "image", "application/pdf": "blob", "application/msword": "blob", "": "blob",
	} {
		if got := kind(ct); got != want {
			t.Errorf("kind(%q) = %s, want %s", ct, got, want)
		}
	}
}

// An image or PDF over the cap is not decoded, and its result is a sentence with its type and
// size; text over it is read in parts as any other.
func TestBinaryOverTheCapIsASentence(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	big := base64.StdEncoding.EncodeToString(make([]byte, limit+1))
	b, err := decodeBinary("application/fhir+json", []byte(`{"resourceType":"Binary","contentType":"application/pdf","data":"`+big+`"}`), limit)
	if err != nil || b.data != nil || b.size != limit+1 {
		t.Fatalf("a Binary one byte over the cap: %+v, %v", b, err)
	}
	exact := base64.StdEncoding.EncodeToString(make([]byte, limit))
	if b, err := decodeBinary("application/fhir+json", []byte(`{"resourceType":"Binary","contentType":"application/pdf","data":"`+exact+`"}`), limit); err != nil || len(b.data) != limit {
		t.Fatalf("a Binary exactly at the cap: %v", err)
	}
	wrapped := strings.Join(strings.SplitAfter(exact, "AAAA"), `\r\n`)
	if b, err := decodeBinary("application/fhir+json", []byte(`{"resourceType":"Binary","contentType":"image/png","data":"`+wrapped+`"}`), limit); err != nil || len(b.data) != limit {
		t.Fatalf("base64 in lines, exactly at the cap: %v", err)
	}
	if b, _ := decodeBinary("application/pdf", make([]byte, limit+1), limit); b.data != nil || b.size != limit+1 {
		t.Fatal("a raw answer over the cap was decoded")
	}
	text := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("a", limit+1)))
	if b, err := decodeBinary("application/fhir+json", []byte(`{"resourceType":"Binary","contentType":"text/plain","data":"`+text+`"}`), limit); err != nil || len(b.data) != limit+1 {
		t.Fatalf("text over the cap: %v", err)
	}
	raw, err := decodeBinary("application/xml", []byte("<ClinicalDocument/>"), limit)
	if err != nil || raw.contentType != "application/xml" || string(raw.data) != "<ClinicalDocument/>" {
		t.Fatalf("a raw XML answer: %+v, %v", raw, err)
	}
	for _, body := range []string{`{"resourceType":"OperationOutcome"}`, `{"resourceType":"Binary","data":"%%%"}`, `not json`} {
		if _, err := decodeBinary("application/fhir+json", []byte(body), limit); err == nil {
			t.Errorf("decodeBinary(%s) accepted it", body)
		}
	}
	res, _, err := binary{contentType: "application/pdf", size: 9 << 20}.result("Binary/x", "u", 0)
	if err != nil || len(res.Content) != 1 || res.IsError {
		t.Fatalf("a PDF over the cap: %+v, %v", res, err)
	}
	if got := res.Content[0].(*sdk.TextContent).Text; !strings.Contains(got, "This application/pdf content is 9.0 MiB, more than the 7 MiB a result can carry") {
		t.Errorf("the cap is worded %q", got)
	}
}

// Text in parts never takes more than its room, however much of it is not UTF-8.
func TestBinaryTextPartsStayInTheirRoom(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat("a\xff", 100<<10))
	part, end := textPart(data, 0, MaxResultBytes-headRoom)
	if len(part) > MaxResultBytes-headRoom || end == 0 || !utf8.ValidString(part) {
		t.Fatalf("a part of %d bytes ending at %d", len(part), end)
	}
	if part, end := textPart([]byte("\xff\xfe\xfdok"), 0, 100); part != "\uFFFDok" || end != 5 {
		t.Fatalf("a run of invalid bytes: %q, %d", part, end)
	}
}

package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/practice"
	"github.com/healow-mcp/healow-mcp/practice/smart"
)

// MaxBinaryBytes caps the decoded content get_binary returns.
const MaxBinaryBytes = 10 << 20

type binaryIn struct {
	Practice string `json:"practice,omitempty" jsonschema:"name or id of the practice; may be left out when only one is connected"`
	ID       string `json:"id,omitempty" jsonschema:"the Binary's id (or Binary/<id>), e.g. binary_id from get_document_reference; give id or url"`
	URL      string `json:"url,omitempty" jsonschema:"an attachment url as a DocumentReference gives it: Binary/<id>, or an absolute URL inside the practice's FHIR base; give id or url"`
	Offset   int    `json:"offset,omitempty" jsonschema:"for text content, the byte offset to continue from: next_offset of the previous call; default 0"`
}

func (t *tools) addBinary(s *sdk.Server) {
	sdk.AddTool(s, &sdk.Tool{
		Name:  "get_binary",
		Title: "Read a document's content",
		Description: "Reads a Binary (a document's content) from a practice and decodes it. Text, HTML, RTF, XML (C-CDA) and JSON come back as text, " +
			fmt.Sprintf("%d KiB at a time: when more is left, the first block gives next_offset to call again with. ", MaxResultBytes>>10) +
			"Images come back as image content and PDFs (and other binary types) as an embedded resource with their MIME type. " +
			fmt.Sprintf("Content over %d MiB is refused with its size. ", MaxBinaryBytes>>20) +
			"Give id (from get_document_reference's binary_id, or the part after Binary/ in an attachment url) or url " +
			"(the attachment url itself; relative ones are resolved against the practice, and urls outside its FHIR base are refused). " +
			"The first content block always describes what follows. practice (name or id) may be left out when only one practice is connected.",
		Annotations: readOnly("Read a document's content"),
	}, t.getBinary)
}

func (t *tools) getBinary(ctx context.Context, _ *sdk.CallToolRequest, in binaryIn) (*sdk.CallToolResult, any, error) {
	id := strings.TrimPrefix(strings.TrimSpace(in.ID), "Binary/")
	switch {
	case (id == "") == (strings.TrimSpace(in.URL) == ""):
		return nil, nil, errors.New("id, url: give exactly one: the Binary's id, or the attachment url")
	case id != "" && !practice.IsID(id):
		return nil, nil, fmt.Errorf("id: %s is not a Binary id (1-64 letters, digits, '-' and '.')", smart.Quote(in.ID))
	case in.Offset < 0:
		return nil, nil, fmt.Errorf("offset: %d is negative; give next_offset from the previous call, or leave it out", in.Offset)
	}
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, nil, explain(err)
	}
	req := practice.Request{Resource: "Binary", ID: id, Accept: "application/fhir+json"}
	uri := ""
	if id == "" {
		info, err := a.Info(ctx)
		if err != nil {
			return nil, nil, explain(err)
		}
		abs, err := practice.ResolveAttachment(info.FHIRBaseURL, in.URL)
		if err != nil {
			return nil, nil, err
		}
		if bid, ok := practice.BinaryID(info.FHIRBaseURL, abs); ok {
			id = bid
		}
		req, uri = practice.Request{Next: abs, Accept: "application/fhir+json"}, abs
	}
	resp, err := t.fetch(ctx, a, req)
	if err != nil {
		return nil, nil, t.explainFetch(ctx, a, target{resource: "Binary", id: id}, err)
	}
	name := "Binary/" + id
	if id == "" {
		name = in.URL
	}
	if uri == "" {
		info, err := a.Info(ctx)
		if err != nil {
			return nil, nil, explain(err)
		}
		uri = info.FHIRBaseURL + "/" + name
	}
	b, err := decodeBinary(resp.ContentType, resp.Body, MaxBinaryBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return b.result(name, uri, in.Offset)
}

// binary is a Binary's decoded content.
type binary struct {
	contentType string
	data        []byte
}

// decodeBinary reads what the practice answered to a Binary read: a Binary resource in FHIR JSON
// (asked for, since it carries contentType), or the raw content, which some eCW builds send
// whatever was asked. Content over limit bytes is refused.
func decodeBinary(contentType string, body []byte, limit int) (binary, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if !strings.Contains(mt, "json") {
		if len(body) > limit {
			return binary{}, tooLarge(len(body), limit)
		}
		return binary{contentType: contentType, data: body}, nil
	}
	var r struct {
		ResourceType string `json:"resourceType"`
		ContentType  string `json:"contentType"`
		Data         string `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return binary{}, fmt.Errorf("the practice's answer does not parse: %w", err)
	}
	if r.ResourceType != "Binary" {
		return binary{}, fmt.Errorf("the practice answered with a %s, not a Binary", smart.Quote(r.ResourceType))
	}
	if n := base64.StdEncoding.DecodedLen(len(r.Data)); n > limit+2 {
		return binary{}, tooLarge(n, limit)
	}
	data, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return binary{}, fmt.Errorf("its data is not valid base64: %w", err)
	}
	if len(data) > limit {
		return binary{}, tooLarge(len(data), limit)
	}
	return binary{contentType: r.ContentType, data: data}, nil
}

func tooLarge(n, limit int) error {
	return fmt.Errorf("the content is %.1f MiB, more than the %s get_binary returns; ask the practice for it through its patient portal",
		float64(n)/(1<<20), mib(limit))
}

func mib(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// kind sorts a MIME type into what an MCP client can show: text, an image, or a blob.
func kind(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/rtf":
		return "text"
	case strings.HasPrefix(mt, "image/"):
		return "image"
	}
	return "blob"
}

// result shapes the content: a first text block that says what follows, then the content.
func (b binary) result(name, uri string, offset int) (*sdk.CallToolResult, any, error) {
	ct := b.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = ct
	}
	if offset > 0 && kind(ct) != "text" {
		return nil, nil, fmt.Errorf("offset: only text is returned in parts, and %s is %s", name, ct)
	}
	switch kind(ct) {
	case "text":
		if offset > len(b.data) {
			return nil, nil, fmt.Errorf("offset: %d is past the end of %s, which has %d bytes", offset, name, len(b.data))
		}
		end := min(offset+MaxResultBytes, len(b.data))
		for end < len(b.data) && end > offset && !utf8.RuneStart(b.data[end]) {
			end-- // never split a character
		}
		head := map[string]any{"binary": name, "content_type": ct, "size": len(b.data), "offset": offset, "returned": end - offset}
		if end < len(b.data) {
			head["next_offset"] = end
			head["note"] = fmt.Sprintf("more follows: call get_binary again with offset=%d", end)
		}
		text := strings.ToValidUTF8(string(b.data[offset:end]), "\uFFFD")
		return &sdk.CallToolResult{Content: []sdk.Content{headBlock(head), &sdk.TextContent{Text: text}}}, nil, nil
	case "image":
		head := map[string]any{"binary": name, "content_type": ct, "size": len(b.data), "note": "the image follows"}
		return &sdk.CallToolResult{Content: []sdk.Content{headBlock(head), &sdk.ImageContent{Data: b.data, MIMEType: mt}}}, nil, nil
	}
	head := map[string]any{"binary": name, "content_type": ct, "size": len(b.data), "note": "the content follows as an embedded resource"}
	return &sdk.CallToolResult{Content: []sdk.Content{headBlock(head), &sdk.EmbeddedResource{
		Resource: &sdk.ResourceContents{URI: uri, MIMEType: mt, Blob: b.data},
	}}}, nil, nil
}

func headBlock(head map[string]any) *sdk.TextContent {
	j, _ := json.Marshal(head)
	return &sdk.TextContent{Text: string(j)}
}

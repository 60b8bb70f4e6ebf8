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

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

// MaxBinaryBytes caps the decoded images and PDFs (anything but text) one get_binary result
// carries. Base64 makes 7 MiB into 9.3 MiB, which with its envelope stays under the 10 MiB
// message MCP clients accept: the TypeScript SDK's client closes the connection over a larger
// one, and every practice's session with it. Text has no such cap: it comes in parts.
const MaxBinaryBytes = 7 << 20

// headRoom is what get_binary keeps of MaxResultBytes for its first block, which describes the
// content; a part of text takes the rest.
const headRoom = 1 << 10

type binaryIn struct {
	Practice string `json:"practice,omitempty"`
	ID       string `json:"id,omitempty" jsonschema:"binary_id from get_document_reference"`
	URL      string `json:"url,omitempty" jsonschema:"or an attachment's url"`
	Offset   int    `json:"offset,omitempty" minimum:"0" jsonschema:"next_offset, to continue a text"`
}

func (t *tools) addBinary(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name: "get_binary",
		Description: fmt.Sprintf("A document's content (a Binary) by id or url: text %d KiB at a time, ", (MaxResultBytes-headRoom)>>10) +
			fmt.Sprintf("images as images, PDFs as resources (over %d MiB: type and size only).", MaxBinaryBytes>>20),
		Annotations: readOnly("Document content"),
	}, t.getBinary)
}

func (t *tools) getBinary(ctx context.Context, _ *sdk.CallToolRequest, in binaryIn) (*sdk.CallToolResult, any, error) {
	id := strings.TrimPrefix(strings.TrimSpace(in.ID), "Binary/")
	switch {
	case (id == "") == (strings.TrimSpace(in.URL) == ""):
		return nil, nil, errors.New("id, url: give exactly one: the Binary's id, or the attachment url")
	case id != "" && !practice.IsID(id):
		return nil, nil, fmt.Errorf("id: %s is not a Binary id (1-64 letters, digits, '-' and '.')", quote.Quote(in.ID))
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
		req, uri = practice.Request{Attachment: abs, Accept: "application/fhir+json"}, abs
	}
	resp, err := t.fetchAttachment(ctx, a, req)
	if err != nil {
		return nil, nil, t.explainFetch(ctx, a, target{resource: "Binary", id: id}, err)
	}
	name := "Binary/" + id
	if id == "" {
		name = cutText(in.URL, quote.Max)
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
	size        int // the content's size; data is nil when it is over the cap
}

// decodeBinary reads what the practice answered to a Binary read: a Binary resource in FHIR JSON
// (asked for, since it carries contentType), or the raw content, which some eCW builds send
// whatever was asked. Content that is not text and is over limit bytes is not decoded: only its
// size is kept, for result to say.
func decodeBinary(contentType string, body []byte, limit int) (binary, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if !strings.Contains(mt, "json") {
		if len(body) > limit && kind(contentType) != "text" {
			return binary{contentType: contentType, size: len(body)}, nil
		}
		return binary{contentType: contentType, data: body, size: len(body)}, nil
	}
	var r struct {
		ResourceType string `json:"resourceType"`
		ContentType  string `json:"contentType"`
		Data         string `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return binary{}, fmt.Errorf("the practice's answer does not parse: %s", jsonscan.Why(err))
	}
	if r.ResourceType != "Binary" {
		return binary{}, fmt.Errorf("the practice answered with a %s, not a Binary", quote.Quote(r.ResourceType))
	}
	if n := decodedSize(r.Data); n > limit && kind(r.ContentType) != "text" {
		return binary{contentType: r.ContentType, size: n}, nil
	}
	data, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return binary{}, fmt.Errorf("its data is not valid base64: %w", err)
	}
	return binary{contentType: r.ContentType, data: data, size: len(data)}, nil
}

// decodedSize is how many bytes base64 data decodes to, without decoding it: line breaks, which
// the decoder skips, and padding do not count.
func decodedSize(data string) int {
	n := len(data) - strings.Count(data, "\n") - strings.Count(data, "\r")
	end := strings.TrimRight(data, "\r\n")
	pad := len(end) - len(strings.TrimRight(end, "="))
	return max(n/4*3+(n%4)*3/4-pad, 0)
}

// tooLarge says what a result holds instead of content over the cap.
func tooLarge(ct string, n, limit int) string {
	return fmt.Sprintf("This %s content is %.1f MiB, more than the %s a result can carry: MCP clients drop a larger message, and the connection to every practice with it. "+
		"It is not returned; ask the practice for it through its patient portal.", ct, float64(n)/(1<<20), mib(limit))
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
	ct := cutText(b.contentType, quote.Max)
	if ct == "" {
		ct = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = ct
	}
	if b.data == nil && b.size > 0 && kind(ct) != "text" {
		head := map[string]any{"binary": name, "content_type": ct, "size": b.size, "note": tooLarge(ct, b.size, MaxBinaryBytes)}
		return &sdk.CallToolResult{Content: []sdk.Content{headBlock(head)}}, nil, nil
	}
	if offset > 0 && kind(ct) != "text" {
		return nil, nil, fmt.Errorf("offset: only text is returned in parts, and %s is %s", name, ct)
	}
	switch kind(ct) {
	case "text":
		if offset > len(b.data) {
			return nil, nil, fmt.Errorf("offset: %d is past the end of %s, which has %d bytes", offset, name, len(b.data))
		}
		text, end := textPart(b.data, offset, MaxResultBytes-headRoom)
		head := map[string]any{"binary": name, "content_type": ct, "size": len(b.data), "offset": offset, "returned": end - offset}
		if end < len(b.data) {
			head["next_offset"] = end
			head["note"] = fmt.Sprintf("more follows: call get_binary again with offset=%d", end)
		}
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

// textPart is the text of data from offset that fits room bytes, and where it ends: it never
// splits a character, and a run of bytes that are not UTF-8 becomes one U+FFFD (as
// strings.ToValidUTF8 has it), counted as the three bytes it takes.
func textPart(data []byte, offset, room int) (string, int) {
	var b strings.Builder
	i := offset
	for i < len(data) {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			j := i + 1
			for j < len(data) {
				if r, size := utf8.DecodeRune(data[j:]); r != utf8.RuneError || size != 1 {
					break
				}
				j++
			}
			if b.Len()+len("\uFFFD") > room {
				break
			}
			b.WriteString("\uFFFD")
			i = j
			continue
		}
		if b.Len()+size > room {
			break
		}
		b.Write(data[i : i+size])
		i += size
	}
	return b.String(), i
}

func headBlock(head map[string]any) *sdk.TextContent {
	j, _ := json.Marshal(head)
	return &sdk.TextContent{Text: string(j)}
}

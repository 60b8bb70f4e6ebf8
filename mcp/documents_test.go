package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

type attachment struct {
	ContentType string `json:"content_type"`
	URL         string `json:"url"`
	BinaryID    string `json:"binary_id"`
	Size        int    `json:"size"`
	Read        string `json:"read"`
}

// Every document's attachment is offered with a Binary id, and get_binary returns each kind
// the way an MCP client shows it.
func TestDocumentsAndTheirContent(t *testing.T) {
	t.Parallel()
	_, cs, _ := connected(t)
	docs := searchPage(t, cs, "search_document_reference", map[string]any{"category": "clinical-note"})
	if docs.Returned != 6 {
		t.Fatalf("%d documents", docs.Returned)
	}
	seen := map[string]bool{}
	for _, e := range docs.Entries {
		id := idOf(t, e)
		var doc struct {
			ResourceType string       `json:"resource_type"`
			ID           string       `json:"id"`
			Attachments  []attachment `json:"attachments"`
		}
		callOK(t, cs, "get_document_reference", map[string]any{"id": "DocumentReference/" + id}, &doc)
		if doc.ID != id || len(doc.Attachments) != 1 {
			t.Fatalf("get_document_reference %s = %+v", id, doc)
		}
		at := doc.Attachments[0]
		if at.BinaryID == "" || at.URL != "Binary/"+at.BinaryID || !strings.Contains(at.Read, "get_binary") {
			t.Fatalf("attachment %+v", at)
		}
		seen[at.ContentType] = true
		res := binaryResult(t, cs, map[string]any{"id": at.BinaryID})
		var head struct {
			Binary      string `json:"binary"`
			ContentType string `json:"content_type"`
			Size        int    `json:"size"`
		}
		json.Unmarshal([]byte(res.Content[0].(*sdk.TextContent).Text), &head)
		if head.Binary != "Binary/"+at.BinaryID || head.ContentType != at.ContentType || head.Size != at.Size || len(res.Content) != 2 {
			t.Fatalf("get_binary %s: head %+v, %d blocks", at.BinaryID, head, len(res.Content))
		}
		checkBinary(t, at.ContentType, res.Content[1])
	}
	for _, ct := range []string{"text/plain", "text/html", "text/rtf", "application/xml", "image/png", "application/pdf"} {
		if !seen[ct] {
			t.Errorf("no %s document was read", ct)
		}
	}
	// The attachment url itself works as well, relative as eCW gives it.
	var doc struct{ Attachments []attachment }
	callOK(t, cs, "get_document_reference", map[string]any{"id": idOf(t, docs.Entries[0])}, &doc)
	res := binaryResult(t, cs, map[string]any{"url": doc.Attachments[0].URL})
	checkBinary(t, doc.Attachments[0].ContentType, res.Content[1])

	byType := searchPage(t, cs, "search_document_reference", map[string]any{"type": "http://loinc.org|11506-3"})
	if byType.Returned != 1 {
		t.Fatalf("progress notes: %d", byType.Returned)
	}
}

func binaryResult(t *testing.T, cs *sdk.ClientSession, args map[string]any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: "get_binary", Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("get_binary(%v): %v", args, res.Content[0].(*sdk.TextContent).Text)
	}
	return res
}

func checkBinary(t *testing.T, contentType string, c sdk.Content) {
	t.Helper()
	wantText := map[string]string{"text/plain": "PROGRESS NOTE", "text/html": "<h1>After visit summary</h1>",
		"text/rtf": `{\rtf1`, "application/xml": "<ClinicalDocument"}
	switch contentType {
	case "image/png":
		img, ok := c.(*sdk.ImageContent)
		if !ok || img.MIMEType != "image/png" {
			t.Fatalf("a PNG came back as %T", c)
		}
		if _, err := png.Decode(bytes.NewReader(img.Data)); err != nil {
			t.Fatalf("the image does not decode: %v", err)
		}
	case "application/pdf":
		r, ok := c.(*sdk.EmbeddedResource)
		if !ok || r.Resource.MIMEType != "application/pdf" || !bytes.HasPrefix(r.Resource.Blob, []byte("%PDF-")) || !strings.Contains(r.Resource.URI, "/Binary/") {
			t.Fatalf("a PDF came back as %T %+v", c, r)
		}
	default:
		tc, ok := c.(*sdk.TextContent)
		if !ok || !strings.Contains(tc.Text, wantText[contentType]) {
			t.Fatalf("%s came back as %T: %.200v", contentType, c, c)
		}
	}
}

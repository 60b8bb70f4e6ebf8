package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

type documentSearchIn struct {
	Category    string `json:"category,omitempty" jsonschema:"code or system|code; US Core's is clinical-note"`
	Type        string `json:"type,omitempty" jsonschema:"code or system|code (LOINC), comma-separated, e.g. 11506-3 (progress note)"`
	DateFrom    string `json:"date_from,omitempty" jsonschema:"YYYY-MM-DD"`
	DateTo      string `json:"date_to,omitempty" jsonschema:"YYYY-MM-DD"`
	ContentType string `json:"content_type,omitempty" jsonschema:"an attachment's MIME type, e.g. application/pdf"`
	Encounter   string `json:"encounter,omitempty"`
	paging
}

type documentIn struct {
	Practice string `json:"practice,omitempty"`
	ID       string `json:"id"`
}

type documentOut struct {
	ResourceType string          `json:"resource_type"`
	ID           string          `json:"id"`
	Resource     json.RawMessage `json:"resource" jsonschema:"the DocumentReference as FHIR R4 JSON, narrative (text.div) removed"`
	Attachments  []attachmentOut `json:"attachments" jsonschema:"the document's content, one entry per attachment, each saying how to read it"`
	Note         string          `json:"note,omitempty" jsonschema:"what was left out, if anything"`
}

type attachmentOut struct {
	ContentType string `json:"content_type,omitempty" jsonschema:"the MIME type, e.g. application/pdf, text/plain, image/png, application/xml (C-CDA)"`
	Title       string `json:"title,omitempty"`
	Size        int    `json:"size,omitempty" jsonschema:"bytes, as the practice states"`
	URL         string `json:"url,omitempty" jsonschema:"the attachment's url as the practice gave it"`
	BinaryID    string `json:"binary_id,omitempty" jsonschema:"the Binary holding the content: pass it to get_binary as id"`
	Read        string `json:"read" jsonschema:"how to read the content"`
}

func (t *tools) addDocuments(s *sdk.Server) {
	addSearch(t, s, searchTool[documentSearchIn]{
		name: "search_document_reference", title: "Documents", resource: "DocumentReference",
		description: "The patient's documents (notes, letters, summaries, scans, C-CDA): type, date, author. " +
			"Read one with get_document_reference.",
		build: func(in documentSearchIn, q *query) {
			q.token("category", "category", in.Category)
			q.token("type", "type", in.Type)
			q.dates("date", "date_from", in.DateFrom, "date_to", in.DateTo)
			q.token("contenttype", "content_type", in.ContentType)
			q.reference("encounter", "encounter", "Encounter", in.Encounter)
		},
	})
	addTool(t, s, &sdk.Tool{
		Name:         "get_document_reference",
		Description:  "A document (DocumentReference) by id, and how to read each attachment, e.g. a binary_id for get_binary." + readHelp,
		OutputSchema: schemaFor[documentOut](),
		Annotations:  readOnly("Document"),
	}, t.getDocument)
}

func (t *tools) getDocument(ctx context.Context, _ *sdk.CallToolRequest, in documentIn) (*sdk.CallToolResult, documentOut, error) {
	res, err := t.readTyped(ctx, in.Practice, "DocumentReference", in.ID)
	if err != nil {
		return nil, documentOut{}, err
	}
	a, err := t.reg.Lookup(ctx, in.Practice)
	if err != nil {
		return nil, documentOut{}, explain(err)
	}
	info, err := a.Info(ctx)
	if err != nil {
		return nil, documentOut{}, explain(err)
	}
	out := documentOut{ResourceType: res.ResourceType, ID: res.ID, Resource: res.Resource, Note: res.Note}
	all := attachments(info.FHIRBaseURL, res.Resource)
	out.Attachments = fitAttachments(all, resourceRoom-len(res.Resource))
	if left := len(all) - len(out.Attachments); left > 0 {
		out.Note = strings.TrimSpace(out.Note + fmt.Sprintf(" %d of the document's %d attachments are not listed, to fit the %d KiB a result may hold; resource.content has them all.",
			left, len(all), MaxResultBytes>>10))
	}
	return nil, out, nil
}

// fitAttachments keeps attachments, in order, while they fit room bytes.
func fitAttachments(all []attachmentOut, room int) []attachmentOut {
	used := 0
	for i, a := range all {
		b, _ := json.Marshal(a)
		if used += len(b) + 1; used > room {
			return all[:i]
		}
	}
	return all
}

// attachments says, for each content.attachment of a DocumentReference, how to read it.
func attachments(base string, doc json.RawMessage) []attachmentOut {
	var d struct {
		Content []struct {
			Attachment struct {
				ContentType string          `json:"contentType"`
				Title       string          `json:"title"`
				Size        int             `json:"size"`
				URL         string          `json:"url"`
				Data        json.RawMessage `json:"data"`
			} `json:"attachment"`
		} `json:"content"`
	}
	json.Unmarshal(doc, &d)
	out := []attachmentOut{}
	for i, c := range d.Content {
		at := c.Attachment
		// The practice's words are cut: a result repeats them beside the resource that holds them.
		o := attachmentOut{ContentType: cutText(at.ContentType, quote.Max), Title: cutText(at.Title, quote.Max), Size: at.Size, URL: at.URL}
		switch {
		case at.URL != "" && (practice.Request{Next: at.URL}).Validate() != nil:
			o.URL = cutText(at.URL, quote.Max)
			o.Read = fmt.Sprintf("not readable here: the url is %s long, more than any link healow-mcp follows", kib(len(at.URL)))
		case at.URL != "":
			abs, err := practice.ResolveAttachment(base, at.URL)
			if err != nil {
				o.Read = "not readable here: the url lies outside the practice's FHIR base, and healow-mcp sends the practice's token nowhere else"
				break
			}
			if id, ok := practice.BinaryID(base, abs); ok {
				o.BinaryID = id
				o.Read = fmt.Sprintf("call get_binary with id=%q", id)
			} else {
				o.Read = "call get_binary with this url"
			}
		case len(at.Data) > 0:
			o.Read = fmt.Sprintf("inline: resource.content[%d].attachment.data holds the base64 content (left out above when over %d KiB)", i, maxInlineData>>10)
		default:
			o.Read = "the practice gave neither a url nor data for this attachment"
		}
		out = append(out, o)
	}
	return out
}

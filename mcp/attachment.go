package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/healow-mcp/healow-mcp/practice"
)

// The actor reads a document's content only when one of the patient's own records that came
// through it points there. A model may hold an id from an earlier session, so an attachment the
// actor has not seen is looked for among the patient's documents and reports first, a few pages
// of each, before the read is refused.

// lookupPages bounds the pages of each record type read while looking for an attachment.
const lookupPages = 5

// lookupTypes are the records whose attachments hold a patient's documents.
var lookupTypes = []string{"DocumentReference", "DiagnosticReport"}

func (t *tools) fetchAttachment(ctx context.Context, a *practice.Actor, req practice.Request) (*practice.Response, error) {
	resp, err := t.fetch(ctx, a, req)
	if !errors.Is(err, practice.ErrUnknownAttachment) {
		return resp, err
	}
	progressFrom(ctx).Step("looking through the patient's documents and reports for one that points to this content")
	for _, typ := range lookupTypes {
		page := practice.Request{Resource: typ, Params: url.Values{"_count": {strconv.Itoa(MaxCount)}}}
		for n := range lookupPages {
			found, err := t.fetch(ctx, a, page)
			var fe *practice.FHIRError
			if errors.Is(err, practice.ErrNotThisPatient) || errors.As(err, &fe) && fe.Status < 500 && fe.Status != 429 {
				break // this kind of record is not searchable here, or not granted: try the next
			}
			if err != nil {
				return nil, fmt.Errorf("this content is read only when one of the patient's documents points to it, and looking through them failed: %w", err)
			}
			progressFrom(ctx).Page(a, typ, n+1, -1)
			if resp, err := t.fetch(ctx, a, req); !errors.Is(err, practice.ErrUnknownAttachment) {
				return resp, err
			}
			p, err := readPage(ctx, found.Body)
			if err != nil || p.next == "" {
				break
			}
			page = practice.Request{Next: p.next}
		}
	}
	err = fmt.Errorf("%w: none of the patient's documents or reports at this practice points to this content, so it is not read; take ids from get_document_reference's binary_id", practice.ErrNotThisPatient)
	t.record(ctx, a, req, nil, err)
	return nil, err
}

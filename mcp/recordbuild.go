package mcp

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/mcp/rows"
	"github.com/healow-mcp/healow-mcp/practice"
)

// search_record reads a practice's whole record once, in the background, into an index held in
// memory for the life of the process: the store keeps no patient data, and neither does any
// file. The build reads gently, so that the patient's own calls keep most of the practice's rate
// limit: after a first burst, one page every recordPace.
const (
	recordBurst   = 30                      // pages read at once before pacing starts
	recordPace    = time.Second             // then: 60 a minute, a quarter of eCW's 250
	recordPages   = 200                     // pages of one kind of record, at most: 10,000 at 50 a page
	recordDocs    = 300                     // documents whose content is read, at most
	recordMaxAge  = 24 * time.Hour          // an index this old is built again
	recordDocSize = recordindex.MaxDocument // a document's content past this is not read
)

// recordKinds are the kinds of record the typed tools read; the build reads them all.
var recordKinds = rows.Types()

// recordBuilder reads one practice's record into its index, in a job of the recordIndexes loop,
// and tells the loop each step. Only the job's goroutine touches it.
type recordBuilder struct {
	t     *tools
	a     *practice.Actor
	info  practice.Info
	idx   *recordindex.Index
	tell  func(recordStep)
	pages int // read so far, for pacing
}

// buildRecord reads every kind of record, then the content of the documents among them.
func (t *tools) buildRecord(ctx context.Context, a *practice.Actor, idx *recordindex.Index, tell func(recordStep)) error {
	info, err := a.Info(ctx)
	if err != nil {
		return err
	}
	b := &recordBuilder{t: t, a: a, info: info, idx: idx, tell: tell}
	var docs []docRef
	for _, kind := range recordKinds {
		found, err := b.buildKind(ctx, kind)
		docs = append(docs, found...)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		step := recordStep{kind: true}
		if err != nil {
			step.failed = kind + ": " + firstLine(err.Error())
		}
		tell(step)
	}
	for i, d := range docs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if i >= recordDocs {
			b.unsearchable(fmt.Sprintf("%d more documents (only the first %d are read)", len(docs)-recordDocs, recordDocs))
			break
		}
		b.buildDoc(ctx, d)
	}
	return nil
}

// docRef is a document's attachment, to be read once the resources are.
type docRef struct {
	ref, date, title, url, contentType string
}

func (b *recordBuilder) buildKind(ctx context.Context, kind string) ([]docRef, error) {
	req := practice.Request{Resource: kind, Params: url.Values{"_count": {strconv.Itoa(MaxCount)}}}
	var docs []docRef
	for n := 0; n < recordPages; n++ {
		if err := b.pace(ctx); err != nil {
			return docs, err
		}
		resp, err := b.t.fetch(ctx, b.a, req)
		if err != nil {
			return docs, explain(err)
		}
		p, err := readPage(ctx, resp.Body)
		resp.Release() // the page is cleaned into p: the answer's memory budget goes back now
		if err != nil {
			return docs, err
		}
		for i := range p.entries {
			res := p.resource(i)
			if res == nil || p.modes[i] != "match" {
				continue
			}
			row := rows.Of(res, nil)
			title, text := recordindex.ResourceText(res)
			date := ""
			if !row.When.IsZero() {
				date = row.When.Format(time.DateOnly)
			}
			b.idx.Add(recordindex.Doc{Ref: p.refs[i], Date: date, Practice: b.info.Name, Title: title, Text: text})
			if kind == "DocumentReference" {
				docs = append(docs, docAttachments(res, p.refs[i], date, title)...)
			}
		}
		if p.next == "" {
			return docs, nil
		}
		req = practice.Request{Next: p.next}
	}
	return docs, fmt.Errorf("more than %d pages; the rest is not indexed", recordPages)
}

func (b *recordBuilder) buildDoc(ctx context.Context, d docRef) {
	if !recordindex.Reads(d.contentType) {
		b.unsearchable(fmt.Sprintf("%s (%s: its text is not read)", d.ref, cutText(d.contentType, 64)))
		return
	}
	abs, err := practice.ResolveAttachment(b.info.FHIRBaseURL, d.url)
	if err == nil {
		err = b.pace(ctx)
	}
	var resp *practice.Response
	if err == nil {
		resp, err = b.t.fetch(ctx, b.a, practice.Request{Attachment: abs, Accept: "application/fhir+json"})
	}
	var bin binary
	if err == nil {
		bin, err = decodeBinary(resp.ContentType, resp.Body, recordDocSize)
		defer resp.Release()
	}
	text := ""
	if err == nil {
		ct := bin.contentType
		if ct == "" {
			ct = d.contentType
		}
		text, err = recordindex.DocumentText(ctx, ct, bin.data, b.t.readPDF)
	}
	if err != nil {
		b.unsearchable(fmt.Sprintf("%s (%s)", d.ref, firstLine(explain(err).Error())))
		return
	}
	b.idx.Add(recordindex.Doc{Ref: d.ref, Date: d.date, Practice: b.info.Name, Title: d.title, Text: text})
	b.tell(recordStep{doc: true})
}

// pace waits its turn: the first recordBurst reads at once, then one every recordPace.
func (b *recordBuilder) pace(ctx context.Context) error {
	b.pages++
	if b.pages <= recordBurst {
		return ctx.Err()
	}
	return actor.Sleep(ctx, b.t.clock, recordPace)
}

// unsearchable tells the loop of a document whose text is not searched, and why.
func (b *recordBuilder) unsearchable(why string) { b.tell(recordStep{unsearchable: why}) }

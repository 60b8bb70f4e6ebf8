package mcp

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
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
	recordBurst   = 30              // pages read at once before pacing starts
	recordPace    = 2 * time.Second // then: 30 pages a minute, well under eCW's limits
	recordPages   = 50              // pages of one kind of record, at most
	recordDocs    = 300             // documents whose content is read, at most
	recordMaxAge  = 24 * time.Hour  // an index this old is built again
	recordDocSize = 2 << 20         // a document's content past this is not read
)

// recordKinds are the kinds of record the typed tools read; the build reads them all.
var recordKinds = []string{"Condition", "Observation", "MedicationRequest", "AllergyIntolerance", "Immunization",
	"Encounter", "Procedure", "DiagnosticReport", "DocumentReference", "CarePlan", "Goal", "CareTeam", "ServiceRequest", "Device"}

// recordIndexes are the practices' indexes, by actor.
type recordIndexes struct {
	mu sync.Mutex
	by map[*practice.Actor]*recordBuild
}

// recordBuild is one practice's index and how far its build has come.
type recordBuild struct {
	idx     *recordindex.Index
	started time.Time
	cancel  context.CancelFunc
	done    chan struct{} // closed when the build ends
	changed chan struct{} // buffer of one: a kind of record or a document was read

	mu           sync.Mutex
	kindsRead    int
	docs         int      // documents whose content was read
	unsearchable []string // documents whose content could not be read, with why
	failed       []string // kinds of record that could not be read, with why
	pages        int
}

// index returns a's index, starting its build when there is none, it is a day old, or rebuild
// asks; builds of practices no longer connected are dropped first.
func (t *tools) index(a *practice.Actor, connected []*practice.Actor, rebuild bool) *recordBuild {
	r := &t.records
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.by == nil {
		r.by = map[*practice.Actor]*recordBuild{}
	}
	r.dropLocked(connected)
	b := r.by[a]
	now := t.clock.Now()
	if b != nil && !rebuild && now.Sub(b.started) < recordMaxAge && !b.empty() {
		return b
	}
	if b != nil {
		b.cancel()
	}
	// The build outlives the call that started it; the audit trail names the tool it serves.
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), toolKey{}, "search_record"))
	b = &recordBuild{idx: recordindex.New(), started: now, cancel: cancel, done: make(chan struct{}), changed: make(chan struct{}, 1)}
	r.by[a] = b
	go func() {
		defer close(b.done)
		t.build(ctx, a, b)
	}()
	return b
}

// dropLocked forgets the index of every practice not in connected: a disconnected practice's
// record leaves memory with it. Called with r.mu held.
func (r *recordIndexes) dropLocked(connected []*practice.Actor) {
	for a, b := range r.by {
		kept := false
		for _, c := range connected {
			kept = kept || c == a
		}
		if !kept {
			b.cancel()
			delete(r.by, a)
		}
	}
}

// held says how many practices have an index in memory.
func (r *recordIndexes) held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.by)
}

// build reads every kind of record, then the content of the documents among them.
func (t *tools) build(ctx context.Context, a *practice.Actor, b *recordBuild) {
	info, err := a.Info(ctx)
	if err != nil {
		b.fail("the practice", err)
		return
	}
	var docs []docRef
	for _, kind := range recordKinds {
		found, err := t.buildKind(ctx, a, b, info, kind)
		docs = append(docs, found...)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			b.fail(kind, err)
		}
		b.mu.Lock()
		b.kindsRead++
		b.mu.Unlock()
		b.tell()
	}
	for i, d := range docs {
		if ctx.Err() != nil {
			return
		}
		if i >= recordDocs {
			b.unsearchableAdd(fmt.Sprintf("%d more documents (only the first %d are read)", len(docs)-recordDocs, recordDocs))
			break
		}
		t.buildDoc(ctx, a, b, info, d)
	}
}

// docRef is a document's attachment, to be read once the resources are.
type docRef struct {
	ref, date, title, url, contentType string
}

func (t *tools) buildKind(ctx context.Context, a *practice.Actor, b *recordBuild, info practice.Info, kind string) ([]docRef, error) {
	req := practice.Request{Resource: kind, Params: url.Values{"_count": {strconv.Itoa(MaxCount)}}}
	var docs []docRef
	for n := 0; n < recordPages; n++ {
		if err := b.pace(ctx, t.clock); err != nil {
			return docs, err
		}
		resp, err := t.fetch(ctx, a, req)
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
			b.idx.Add(recordindex.Doc{Ref: p.refs[i], Date: date, Practice: info.Name, Title: title, Text: text})
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

func (t *tools) buildDoc(ctx context.Context, a *practice.Actor, b *recordBuild, info practice.Info, d docRef) {
	if !recordindex.Reads(d.contentType) {
		b.unsearchableAdd(fmt.Sprintf("%s (%s: its text is not read)", d.ref, cutText(d.contentType, 64)))
		return
	}
	abs, err := practice.ResolveAttachment(info.FHIRBaseURL, d.url)
	if err == nil {
		err = b.pace(ctx, t.clock)
	}
	var resp *practice.Response
	if err == nil {
		resp, err = t.fetch(ctx, a, practice.Request{Attachment: abs, Accept: "application/fhir+json"})
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
		text, err = recordindex.DocumentText(ctx, ct, bin.data)
	}
	if err != nil {
		b.unsearchableAdd(fmt.Sprintf("%s (%s)", d.ref, firstLine(explain(err).Error())))
		return
	}
	b.idx.Add(recordindex.Doc{Ref: d.ref, Date: d.date, Practice: info.Name, Title: d.title, Text: text})
	b.mu.Lock()
	b.docs++
	b.mu.Unlock()
	b.tell()
}

// empty says the build ended having read nothing, the practice refusing: the next call tries
// again (once the patient has reconnected, say) rather than answer from nothing for a day.
func (b *recordBuild) empty() bool {
	select {
	case <-b.done:
	default:
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.failed) > 0 && b.idx.Len() == 0
}

// tell wakes a call waiting on the build, to report how far it has come; it never blocks.
func (b *recordBuild) tell() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// read says how far the build has come, in counts: no word of the record.
func (b *recordBuild) read() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("%d of %d kinds of record, %d documents' text; %d items indexed", b.kindsRead, len(recordKinds), b.docs, b.idx.Len())
}

// pace waits its turn: the first recordBurst reads at once, then one every recordPace.
func (b *recordBuild) pace(ctx context.Context, clock actor.Clock) error {
	b.mu.Lock()
	b.pages++
	n := b.pages
	b.mu.Unlock()
	if n <= recordBurst {
		return ctx.Err()
	}
	return actor.Sleep(ctx, clock, recordPace)
}

func (b *recordBuild) fail(what string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed = append(b.failed, what+": "+firstLine(err.Error()))
}

func (b *recordBuild) unsearchableAdd(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unsearchable = append(b.unsearchable, s)
}

package practice

import (
	"context"
	"errors"
	"fmt"

	"github.com/healow-mcp/healow-mcp/internal/actor"
)

// The actor's part in keeping every request and answer to the connected patient: it reads the
// practice's CapabilityStatement before the first search (it says which parameter limits each
// type to one patient), checks every answer in the request's goroutine before it comes back,
// and remembers the attachments the patient's own records hold, the only ones it reads.

// maxAttachments bounds the set of known attachments; when full it starts again, and an
// attachment forgotten that way is found again among the patient's documents.
const maxAttachments = 10000

// maxLinks bounds the set of paging links the actor has seen, likewise.
const maxLinks = 1000

func (r Request) isSearch() bool {
	return !r.Metadata && r.Next == "" && r.Attachment == "" && r.ID == "" && r.Resource != ""
}

func (r *run) limits() limits {
	return limits{patient: r.meta.PatientID, cap: r.capability,
		known: func(u string) bool { return r.attachments[u] },
		paged: func(u string) bool { return r.links[u] }}
}

// knowsCapability reports whether a search can be limited now. A search refused whatever the
// practice declares is answered at once; otherwise, when the CapabilityStatement has not been
// read (or is stale), the search waits for it, and the actor reads it once for all the searches
// waiting.
func (r *run) knowsCapability(m *fetchMsg) bool {
	fresh := r.metadata != nil && r.now().Sub(r.metadataAt) < r.a.opts.ConfigMaxAge
	if fresh && r.capability != nil {
		return true
	}
	if _, err := m.req.url(r.meta.FHIRBaseURL, limits{patient: r.meta.PatientID}); !errors.Is(err, errNoCapability) {
		m.reply.Send(fetchReply{err: err})
		return false
	}
	if fresh && r.capErr != nil {
		m.reply.Send(fetchReply{err: r.capabilityError(r.capErr)})
		return false
	}
	r.capWaiting = append(r.capWaiting, m)
	if r.capReading {
		return false
	}
	r.capReading = true
	read := &fetchMsg{ctx: r.ctx, req: Request{Metadata: true}, reply: actor.NewReply[fetchReply](), first: r.now()}
	r.go_(func(ctx context.Context) func(*run) {
		select {
		case rep := <-read.reply.C():
			// The statement stays cached as r.metadata, outside the memory budget, like any
			// answer a caller has released: it is small, and one per practice.
			rep.resp.Release()
			return func(r *run) { r.capabilityRead(rep.err) }
		case <-ctx.Done():
			return func(*run) {}
		}
	})
	r.metadata = nil // a stale copy must not answer the read
	r.fetch(read)
	return false
}

// capabilityRead lets the searches that waited go on, or fails them with the reason.
func (r *run) capabilityRead(err error) {
	r.capReading = false
	waiting := r.capWaiting
	r.capWaiting = nil
	if err == nil && r.capability == nil {
		err = r.capErr
	}
	if err == nil {
		r.fetchAgain(waiting)
		return
	}
	for _, m := range waiting {
		m.reply.Send(fetchReply{err: r.capabilityError(err)})
	}
}

func (r *run) capabilityError(err error) error {
	return fmt.Errorf("%q: its CapabilityStatement (%s/metadata), which says how to limit a search to the patient, could not be read, so no search is sent: %w",
		r.meta.Name, r.meta.FHIRBaseURL, err)
}

// learnLink remembers the next link of an answer, which the actor then follows as the server's
// own: a server may drop the patient from its continuation links.
func (r *run) learnLink(next string) {
	if next == "" {
		return
	}
	if u, err := InsideBase(r.meta.FHIRBaseURL, next); err == nil {
		if r.links == nil || len(r.links) >= maxLinks {
			r.links = make(map[string]bool)
		}
		r.links[u] = true
	}
}

// learn remembers the attachments the patient's records in an answer hold.
func (r *run) learn(attachments []string) {
	if len(attachments) == 0 {
		return
	}
	if r.attachments == nil || len(r.attachments) >= maxAttachments {
		r.attachments = make(map[string]bool)
	}
	for _, u := range attachments {
		r.attachments[u] = true
	}
}

// checked runs in the request's goroutine: a CapabilityStatement is parsed there, and any other
// answer is checked against the patient, so that neither weighs on the actor's loop.
func (j fetchJob) checked(out fetchResult) fetchResult {
	if out.err != nil || out.resp == nil {
		return out
	}
	if j.req.Metadata {
		out.cap, out.capErr = parseCapability(out.resp.Body)
		if out.cap == nil && out.capErr == nil {
			out.capErr = fmt.Errorf("the practice's CapabilityStatement declares nothing")
		}
		return out
	}
	sc, err := screen(j.req, j.base, j.patient, out.resp.Body)
	if err != nil {
		out.resp.Release() // the answer goes no further
		return fetchResult{err: err, sent: out.sent, start: out.start, latency: out.latency, status: out.status}
	}
	// In place: the Response carries the memory budget its body holds, given back when it is
	// released or collected, so a copy would let the original's collection free it early.
	out.resp.Body, out.resp.Withheld = sc.body, sc.withheld
	out.resp.Resources, out.resp.ResourceType = sc.resources, sc.typ
	out.attachments, out.next = sc.attachments, sc.next
	return out
}

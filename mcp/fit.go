package mcp

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/practice"
)

// Room kept in a result for what surrounds its FHIR JSON. Tools fit entries and resources into
// what is left of MaxResultBytes, so that capResults, the backstop, rarely has to cut.
const (
	// maxNote bounds the note a result ends with: every part of it that repeats the practice's
	// words (references, outcomes, member names) is cut, so it stays well under this.
	maxNote = 4 << 10
	// maxMembers bounds a search Bundle's members other than its entries (id, meta, type,
	// total, link...) that fhir_search passes on: a few hundred bytes from any real server.
	maxMembers = 16 << 10
	// maxListed is how many left-out things a note names.
	maxListed = 5
)

// resourceRoom is the most a single resource may take in a result.
const resourceRoom = MaxResultBytes - envelope - maxNote

// boundMembers makes the Bundle's members other than its entries fit maxMembers, and drops a
// next link that no request could follow (practice.Request refuses links over 8 KiB): a
// practice that sent a megabyte of meta, identifier or link would otherwise have it all passed
// on. A link member that does not fit is cut down to the next link alone.
func (p *page) boundMembers() {
	if p.next != "" && (practice.Request{Next: p.next}).Validate() != nil {
		p.longNext, p.next = len(p.next), ""
	}
	used := 0
	kept := p.fields[:0]
	for _, f := range p.fields {
		size := len(f.key) + len(f.value) + 4
		switch {
		case f.key == "entry":
		case used+size <= maxMembers:
			used += size
		case f.key == "link" && p.next != "":
			f.value, _ = json.Marshal([]map[string]string{{"relation": "next", "url": p.next}})
			used += len(f.key) + len(f.value) + 4
			p.droppedMembers = append(p.droppedMembers, fmt.Sprintf("link (%s; only the next link is kept)", kib(size)))
		default:
			p.droppedMembers = append(p.droppedMembers, fmt.Sprintf("%s (%s)", cutText(f.key, 64), kib(size)))
			continue
		}
		kept = append(kept, f)
	}
	p.fields = kept
}

// membersNote says what boundMembers left out.
func (p *page) membersNote() []string {
	var s []string
	if n := len(p.droppedMembers); n > 0 {
		names := p.droppedMembers[:min(n, maxListed)]
		more := ""
		if n > maxListed {
			more = fmt.Sprintf(" and %d more", n-maxListed)
		}
		s = append(s, fmt.Sprintf("The practice's Bundle also held %s%s, left out to fit the %d KiB a result may hold.",
			strings.Join(names, ", "), more, MaxResultBytes>>10))
	}
	if p.longNext > 0 {
		s = append(s, fmt.Sprintf("The practice's next link is %s long, more than any paging link healow-mcp follows, so it is left out; narrow the search (a date range, a category) to see what follows.",
			kib(p.longNext)))
	}
	return s
}

// matches counts the page's entries that matched the search, kept or not.
func (p *page) matches() int {
	n := 0
	for _, m := range p.modes {
		if m == "match" {
			n++
		}
	}
	return n
}

// jsonLen is how many bytes s takes as a JSON string in a result's text.
func jsonLen(s string) int {
	if s == "" {
		return 0
	}
	b, _ := json.Marshal(s)
	return len(b)
}

// cutText cuts words a practice sent (an id, a reference, a title) to at most n bytes, never
// inside a character, marking the cut.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

// kib renders a size for a note.
func kib(n int) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// Package recordindex is a small full-text index of one patient's record, held in memory only:
// it writes nothing to disk and logs nothing, because everything in it is patient data.
//
// It is an inverted index of lower-cased Unicode word tokens. A query word matches a token that
// equals it or, from three letters on, starts with it (so "diabet" finds "diabetes" and
// "cough" finds "coughing"); every query word must match. Documents rank by term frequency,
// weighted by the field the word is in, with exact matches worth more than prefixes. A plain
// map suits a record of a few thousand resources: see docs/performance.md for the figures.
package recordindex

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Doc is one searchable thing: a resource, or a document's text.
type Doc struct {
	Ref      string // "Type/id"
	Date     string
	Practice string
	Title    string // weighed more than Text: a problem's name, a document's title
	Text     string
}

// Hit is one document that matches a query.
type Hit struct {
	Doc     *Doc
	Score   float64
	Snippet string
}

type posting struct {
	doc    int32
	weight float32 // term frequency, weighted by field
}

// Index is safe for use from several goroutines.
type Index struct {
	mu       sync.RWMutex
	docs     []*Doc
	postings map[string][]posting
	terms    []string // sorted keys of postings, for prefix matches; nil when stale
}

// New returns an empty index.
func New() *Index { return &Index{postings: map[string][]posting{}} }

// Field weights: a word in a title says more about what a resource is than one in its text.
const (
	titleWeight = 3
	textWeight  = 1
	prefixShare = 0.5 // what a prefix match is worth beside an exact one
	minPrefix   = 3
)

// Add indexes d.
func (x *Index) Add(d Doc) {
	counts := map[string]float32{}
	for _, w := range Words(d.Title) {
		counts[w] += titleWeight
	}
	for _, w := range Words(d.Text) {
		counts[w] += textWeight
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	id := int32(len(x.docs))
	x.docs = append(x.docs, &d)
	for w, c := range counts {
		if _, ok := x.postings[w]; !ok {
			x.terms = nil
		}
		x.postings[w] = append(x.postings[w], posting{id, c})
	}
}

// Len is how many documents the index holds.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.docs)
}

// Search returns the documents that hold every word of query, best first, at most limit of
// them, and how many matched in all.
func (x *Index) Search(query string, limit int) ([]Hit, int) {
	words := Words(query)
	if len(words) == 0 {
		return nil, 0
	}
	// Searches are few and short: one lock for the whole, which also rebuilds the sorted words.
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.terms == nil {
		x.terms = make([]string, 0, len(x.postings))
		for w := range x.postings {
			x.terms = append(x.terms, w)
		}
		sort.Strings(x.terms)
	}
	var scores map[int32]float64
	matched := map[int32][]string{} // the index's words each document matched, for its snippet
	for _, q := range words {
		s := map[int32]float64{}
		for _, term := range x.matching(q) {
			share := 1.0
			if term != q {
				share = prefixShare
			}
			for _, p := range x.postings[term] {
				s[p.doc] += share * float64(p.weight)
				matched[p.doc] = append(matched[p.doc], term)
			}
		}
		if scores == nil {
			scores = s
			continue
		}
		for d := range scores {
			if v, ok := s[d]; ok {
				scores[d] += v
			} else {
				delete(scores, d)
			}
		}
	}
	ids := make([]int32, 0, len(scores))
	for d := range scores {
		ids = append(ids, d)
	}
	slices.SortFunc(ids, func(a, b int32) int {
		if scores[a] != scores[b] {
			if scores[a] > scores[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(x.docs[b].Date, x.docs[a].Date) // newest first among equals
	})
	total := len(ids)
	hits := make([]Hit, 0, min(limit, total))
	for _, d := range ids[:min(limit, total)] {
		doc := x.docs[d]
		hits = append(hits, Hit{Doc: doc, Score: scores[d], Snippet: snippet(doc, matched[d])})
	}
	return hits, total
}

// matching is the index's words that q matches: itself, and from minPrefix letters on the
// words it begins. Called with x.mu held.
func (x *Index) matching(q string) []string {
	if len([]rune(q)) < minPrefix {
		if _, ok := x.postings[q]; ok {
			return []string{q}
		}
		return nil
	}
	var out []string
	for i := sort.SearchStrings(x.terms, q); i < len(x.terms) && strings.HasPrefix(x.terms[i], q); i++ {
		out = append(out, x.terms[i])
	}
	return out
}

// Words splits s into lower-cased words of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// SnippetRunes bounds a snippet: enough to see a word in its sentence.
const SnippetRunes = 160

// snippet is the text around the first of words in the document, or the start of its title.
func snippet(d *Doc, words []string) string {
	for _, field := range []string{d.Text, d.Title} {
		lower := strings.ToLower(field)
		at := -1
		for _, w := range words {
			if i := wordAt(lower, w); i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
		if at < 0 {
			continue
		}
		r := []rune(field)
		pos := len([]rune(field[:min(at, len(field))]))
		start := max(0, pos-SnippetRunes/2)
		end := min(len(r), start+SnippetRunes)
		s := strings.Join(strings.Fields(string(r[start:end])), " ")
		if start > 0 {
			s = "…" + s
		}
		if end < len(r) {
			s += "…"
		}
		return s
	}
	return cut(d.Title, SnippetRunes)
}

// wordAt is where w starts a word in lower, or -1. Lower-casing can change a string's length
// in bytes, so the offset is into lower; snippet maps it back through runes, which keeps it
// close enough for a window of text.
func wordAt(lower, w string) int {
	for off := 0; ; {
		i := strings.Index(lower[off:], w)
		if i < 0 {
			return -1
		}
		i += off
		if i == 0 || !isWordRune(lastRune(lower[:i])) {
			return i
		}
		off = i + len(w)
	}
}

func lastRune(s string) rune {
	r := []rune(s)
	return r[len(r)-1]
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Sort orders hits best first, the newest first among equals: hits of several indexes merge so.
func Sort(hits []Hit) {
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(b.Doc.Date, a.Doc.Date)
	})
}

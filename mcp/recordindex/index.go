// Package recordindex is a small full-text index of one patient's record, held in memory only:
// it writes nothing to disk and logs nothing, because everything in it is patient data.
//
// It is an inverted index of the stems of lower-cased Unicode words: English words are reduced
// by the Snowball (Porter2) stemmer, so "infections" finds "infection" and "smoking" finds
// "smokes". A query word matches a word of the same stem or, from three letters on, a word it
// begins, itself or stemmed (so "diabet" finds "diabetes" and "smoking" finds "smoker");
// every query word must match. Documents rank by term frequency, weighted by the field the word
// is in, with a word of the same stem worth more than one it begins. A snippet shows the
// document's own words around the first that matched. A plain map suits a record of a few
// thousand resources: see docs/performance.md for the figures.
package recordindex

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/kljensen/snowball/english"
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
	postings map[string][]posting // by stem
	stems    map[string]string    // each word the documents hold, and its stem
	words    []string             // sorted keys of stems, for prefix matches; nil when stale
}

// New returns an empty index.
func New() *Index { return &Index{postings: map[string][]posting{}, stems: map[string]string{}} }

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
	byStem := make(map[string]float32, len(counts))
	for w, c := range counts {
		byStem[x.stemLocked(w)] += c
	}
	for s, c := range byStem {
		x.postings[s] = append(x.postings[s], posting{id, c})
	}
}

// stemLocked is w's stem, from the words seen before when it is one: a record repeats its
// words, and a map is cheaper than the stemmer. Called with x.mu held for writing.
func (x *Index) stemLocked(w string) string {
	s, ok := x.stems[w]
	if !ok {
		s = Stem(w)
		x.stems[w] = s
		x.words = nil
	}
	return s
}

// Stem is the Snowball (Porter2) English stem of a lower-cased word of ASCII letters; any other
// word (a number, "a1c", a word with accents) is its own stem.
func Stem(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return w
		}
	}
	return english.Stem(w, false)
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
	if x.words == nil {
		x.words = make([]string, 0, len(x.stems))
		for w := range x.stems {
			x.words = append(x.words, w)
		}
		sort.Strings(x.words)
	}
	var scores map[int32]float64
	matched := map[int32]map[string]bool{} // the stems each document matched, for its snippet
	for _, q := range words {
		s := map[int32]float64{}
		for term, share := range x.matching(q) {
			for _, p := range x.postings[term] {
				s[p.doc] += share * float64(p.weight)
				if matched[p.doc] == nil {
					matched[p.doc] = map[string]bool{}
				}
				matched[p.doc][term] = true
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
		hits = append(hits, Hit{Doc: doc, Score: scores[d], Snippet: x.snippetLocked(doc, matched[d])})
	}
	return hits, total
}

// matching is the stems q matches, with the share of a match each is worth: its own stem in
// full, and from minPrefix letters on, the stems of the words that begin with q or with its
// stem, at prefixShare. Called with x.mu held.
func (x *Index) matching(q string) map[string]float64 {
	own := Stem(q)
	terms := map[string]float64{}
	if len([]rune(q)) >= minPrefix {
		for _, p := range []string{q, own} {
			for i := sort.SearchStrings(x.words, p); i < len(x.words) && strings.HasPrefix(x.words[i], p); i++ {
				terms[x.stems[x.words[i]]] = prefixShare
			}
		}
	}
	if _, ok := x.postings[own]; ok {
		terms[own] = 1
	}
	return terms
}

// Words splits s into lower-cased words of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// SnippetRunes bounds a snippet: enough to see a word in its sentence.
const SnippetRunes = 160

// snippetLocked is the text around the first word of the document whose stem is one of stems,
// in the document's own words, or the start of its title. Called with x.mu held.
func (x *Index) snippetLocked(d *Doc, stems map[string]bool) string {
	for _, field := range []string{d.Text, d.Title} {
		pos := x.firstLocked(field, stems)
		if pos < 0 {
			continue
		}
		r := []rune(field)
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

// firstLocked is the position, in runes, of the first word of field whose stem is one of
// stems, or -1. Called with x.mu held.
func (x *Index) firstLocked(field string, stems map[string]bool) int {
	runes, start, startRune := 0, -1, 0 // where the current word began, in bytes and runes
	matches := func(end int) bool {
		w := strings.ToLower(field[start:end])
		s, ok := x.stems[w]
		if !ok {
			s = Stem(w)
		}
		return stems[s]
	}
	for i, r := range field {
		switch {
		case isWordRune(r) && start < 0:
			start, startRune = i, runes
		case !isWordRune(r) && start >= 0:
			if matches(i) {
				return startRune
			}
			start = -1
		}
		runes++
	}
	if start >= 0 && matches(len(field)) {
		return startRune
	}
	return -1
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

package directory

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/internal/quote"
)

// Practice is one practice of the directory: what a person recognises it by, and the FHIR base
// URL to connect it with.
type Practice struct {
	Name       string
	Line       string // street, the address's lines joined
	City       string
	State      string
	PostalCode string
	Code       string // the last segment of BaseURL: eCW's practice code
	BaseURL    string
}

// Address is the practice's address on one line, as much of it as the directory gave.
func (p Practice) Address() string {
	var parts []string
	for _, s := range []string{p.Line, p.City, strings.TrimSpace(p.State + " " + p.PostalCode)} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// Index is a parsed directory, kept compact: the few fields a search reads and shows.
type Index struct {
	// Skipped counts entries left out: malformed, without an https address, without a name.
	Skipped int
	entries []entry
}

type entry struct {
	p      Practice
	name   []string // the name's words, in lower case
	place  []string // the city's words, the state's abbreviation and name's words
	code   string   // in lower case
	postal string
}

func (x *Index) add(p Practice) {
	x.entries = append(x.entries, entry{
		p: p, name: words(p.Name), place: append(words(p.City), stateWords(p.State)...),
		code: strings.ToLower(p.Code), postal: p.PostalCode,
	})
}

// Len is how many practices the index holds.
func (x *Index) Len() int { return len(x.entries) }

// Code finds the practice with this code, in any case.
func (x *Index) Code(code string) (Practice, bool) {
	c := strings.ToLower(code)
	for i := range x.entries {
		if x.entries[i].code == c {
			return x.entries[i].p, true
		}
	}
	return Practice{}, false
}

// Search returns the best matches of q, at most limit of them, and how many more matched.
// Every word of q must match a practice (but for small words such as "in" or "the", which only
// add to its rank): a word of its name, a word of its city or state, the start of one of them
// (three letters or more), the start of its postal code, or its code. The code counts most, then
// a whole word of the name, of the place, the postal code, then starts of words; ties go to the
// shorter name, then alphabetically.
func (x *Index) Search(q Query, limit int) (found []Practice, more int) {
	type hit struct {
		i, score int
	}
	var hits []hit
	for i := range x.entries {
		if s := x.entries[i].score(q); s > 0 {
			hits = append(hits, hit{i, s})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		ea, eb := &x.entries[a.i], &x.entries[b.i]
		return cmp.Or(b.score-a.score, len(ea.name)-len(eb.name), strings.Compare(ea.p.Name, eb.p.Name),
			strings.Compare(ea.p.Code, eb.p.Code))
	})
	for _, h := range hits[:min(limit, len(hits))] {
		found = append(found, x.entries[h.i].p)
	}
	return found, max(len(hits)-limit, 0)
}

// Weights of a query word's best match in a practice.
const (
	byCode       = 100
	byNameWord   = 10
	byPlaceWord  = 8
	byPostal     = 9
	byPostalPart = 7
	byNameStart  = 6
	byPlaceStart = 4
)

func (e *entry) score(q Query) int {
	total := 0
	for i, w := range q.words {
		s := e.match(w)
		if s == 0 && !q.optional[i] {
			return 0
		}
		total += s
	}
	return total
}

func (e *entry) match(w string) int {
	if w == e.code {
		return byCode
	}
	best := 0
	for _, n := range e.name {
		if n == w {
			return byNameWord
		}
		if len(w) >= 3 && strings.HasPrefix(n, w) {
			best = byNameStart
		}
	}
	for _, p := range e.place {
		if p == w {
			return byPlaceWord
		}
		if len(w) >= 3 && strings.HasPrefix(p, w) {
			best = max(best, byPlaceStart)
		}
	}
	if len(w) >= 3 && e.postal != "" && digits(w) {
		switch {
		case strings.HasPrefix(e.postal, w) && len(w) >= 5:
			best = max(best, byPostal)
		case strings.HasPrefix(e.postal, w):
			best = max(best, byPostalPart)
		}
	}
	return best
}

// Query is a search checked and split into words; see ParseQuery.
type Query struct {
	words    []string
	optional []bool
}

// ErrQuery is wrapped by every refusal of a query or a code: the user's words, never the
// directory, are at fault.
var ErrQuery = errors.New("query")

// Bounds of a query: a few words say what a person looks for.
const (
	maxQueryBytes = 200
	maxQueryWords = 10
)

// smallWords only add to a practice's rank: "clinic in Springfield" must not need "in" to match.
var smallWords = map[string]bool{"a": true, "an": true, "and": true, "at": true, "for": true,
	"in": true, "near": true, "of": true, "the": true}

const queryHelp = "words of the practice's name, a city, a state or its code"

// ParseQuery checks a query from a person or a model and splits it into words.
func ParseQuery(s string) (Query, error) {
	switch {
	case len(s) > maxQueryBytes:
		return Query{}, fmt.Errorf("%w: %s is over %d bytes; a few %s are enough", ErrQuery, quote.Quote(s), maxQueryBytes, queryHelp)
	case !utf8.ValidString(s):
		return Query{}, fmt.Errorf("%w: %s is not UTF-8 text; use %s", ErrQuery, quote.Quote(s), queryHelp)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return Query{}, fmt.Errorf("%w: %s holds control characters; use %s", ErrQuery, quote.Quote(s), queryHelp)
	}
	ws := words(s)
	switch {
	case len(ws) == 0:
		return Query{}, fmt.Errorf("%w: say what to look for: %s", ErrQuery, queryHelp)
	case len(ws) > maxQueryWords:
		return Query{}, fmt.Errorf("%w: %s has %d words; at most %d of the %s", ErrQuery, quote.Quote(s), len(ws), maxQueryWords, queryHelp)
	}
	q := Query{words: ws, optional: make([]bool, len(ws))}
	all := true
	for i, w := range ws {
		q.optional[i] = smallWords[w]
		all = all && q.optional[i]
	}
	if all { // "the" alone must match something
		clear(q.optional)
	}
	return q, nil
}

// ParseCode checks a practice code as a person types it and returns it in upper case, as eCW
// writes codes. It takes what a base URL's last segment may hold (see codePattern).
func ParseCode(s string) (string, error) {
	if !codePattern.MatchString(s) {
		return "", fmt.Errorf("%w: %s is not a practice code: the code is the last part of the practice's FHIR base URL, six letters such as ABCDEF; find it with healow find NAME", ErrQuery, quote.Quote(s))
	}
	return strings.ToUpper(s), nil
}

// words splits s into lower-case words of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func digits(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// HealowBaseURL is the patient-facing FHIR base eClinicalWorks documents for a practice code.
func HealowBaseURL(code string) string { return "https://fhir4.healow.com/fhir/r4/" + code }

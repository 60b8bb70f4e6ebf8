package main

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/supervisor/status"
)

// The CLI's tables and their --json are compared with files under testdata/ (rewritten by
// HEALOW_UPDATE_SNAPSHOTS=1), so a change to what a person reads shows in review. What differs
// from run to run is named instead by a scrubber first.

// scrubber replaces what differs from run to run in healow's output with a name for it: first
// the values a test knows (practice ids, pids, the sandbox's address, temporary folders), each
// with the name it gives, then times, durations and latencies by their shape.
type scrubber struct {
	known []string // value, name, value, name, …
}

// with is the scrubber that also names value.
func (s scrubber) with(value, name string) scrubber {
	s.known = append(slices.Clip(s.known), value, name)
	return s
}

// volatile are the shapes of what changes with the clock and the machine's speed, in the order
// they are replaced (a timestamp before the time of day in it).
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "<time>"}, // JSON; not the zero time, below
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}`), "<time>"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`), "<date>"},
	{regexp.MustCompile(`\b\d{2}:\d{2}:\d{2}\b`), "<clock>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?ms\b`), "<ms>"},
	{regexp.MustCompile(`\b(\d+d\d+h|\d+h(\d{2}m)?|\d+m(\d{2}s)?|\d+s)\b`), "<span>"}, // as span writes them
	{regexp.MustCompile(`("\w+_ns"): -?\d+`), "$1: <ns>"},
	// The requests left this minute start afresh when the minute turns: in JSON and in the
	// status table's LEFT/MIN column (the number before the limit and the breaker's state).
	{regexp.MustCompile(`("rate_left_this_minute"): \d+`), "$1: <n>"},
	{regexp.MustCompile(`\b\d+(/\d+( local)? {2,}(closed|open|half-open) \d+)`), "<n>$1"},
}

const zeroTime = "0001-01-01T00:00:00Z"

func (s scrubber) scrub(text string) string {
	for i := 0; i+1 < len(s.known); i += 2 {
		text = knownValue(s.known[i]).ReplaceAllLiteralString(text, s.known[i+1])
	}
	for _, v := range volatile {
		text = v.re.ReplaceAllStringFunc(text, func(m string) string {
			if m == zeroTime { // a time that is not set, and says so
				return m
			}
			return v.re.ReplaceAllString(m, v.with)
		})
	}
	return text
}

// table scrubs a table and aligns its columns again, since a name is seldom as wide as the value
// it replaced.
func (s scrubber) table(text string) string { return realign(s.scrub(text)) }

// knownValue matches value where it stands alone, not inside a longer word or number (pid 4242
// in port 14242).
func knownValue(value string) *regexp.Regexp {
	expr := regexp.QuoteMeta(value)
	if r := []rune(value); len(r) > 0 && isWord(r[0]) {
		expr = `\b` + expr
	}
	if r := []rune(value); len(r) > 0 && isWord(r[len(r)-1]) {
		expr += `\b`
	}
	return regexp.MustCompile(expr)
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// cellGap is the padding newTable puts after a cell: two spaces or more after a character that
// is not a tree branch (the branches' own spaces are not padding).
var cellGap = regexp.MustCompile(`([^ │├└─]) {2,}`)

// realign lines up the columns of tables again: each run of padding becomes a tab and the text
// goes through a table writer like the one healow prints with.
func realign(text string) string {
	var b strings.Builder
	tw := newTable(&b)
	for line := range strings.Lines(text) {
		tw.Write([]byte(cellGap.ReplaceAllString(line, "$1\t")))
	}
	tw.Flush()
	return b.String()
}

// stableStatus is healow status --json's text with each server's practices supervisor listing
// its children in the order of the practices' names, as the table does, rather than of their
// ids, which are random. Nothing else changes: the text must decode and encode back to itself.
func stableStatus(t *testing.T, text string) string {
	t.Helper()
	var r statusReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("%v in %s", err, text)
	}
	var again strings.Builder
	writeJSON(&again, r, true)
	if again.String() != text {
		t.Fatalf("status --json does not encode back to itself:\n%s", testenv.LineDiff(text, again.String()))
	}
	for _, sv := range r.Servers {
		names := map[string]string{}
		for _, p := range sv.Practices {
			names[p.ID] = p.Name
		}
		if sv.Tree == nil {
			continue
		}
		for i := range sv.Tree.Children {
			if n := &sv.Tree.Children[i]; n.Name == "practices" {
				slices.SortStableFunc(n.Children, func(a, b status.Node) int { return strings.Compare(names[a.Practice], names[b.Practice]) })
			}
		}
	}
	var b strings.Builder
	writeJSON(&b, r, true)
	return b.String()
}

// hostOf is the host:port of a URL, which names the server (a sandbox) in every place it is shown.
func hostOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		t.Fatalf("not a URL: %q", u)
	}
	return p.Host
}

// The scrubber names what a test knows and what moves with the clock, keeps what does not move,
// and leaves columns aligned as healow prints them.
func TestScrubber(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	tw := newTable(&in)
	for _, row := range []string{
		"NAME\tID\tPID\tSTARTED\tTOKEN\tLAST REQUEST\tLEFT/MIN\tBREAKER\tOK/FAILED",
		"Sunrise\tpr_abcdefghij\t4242\t2026-03-14 15:00:00\t59m59s\t3s ago 200 12ms\t249/250\tclosed 0\t3/0",
		"Lakeside\tpr_0123456789\t14242\t2026-03-14 15:00:01\texpired 2h05m ago\tnone yet\t250/250 local\topen 5\t0/1",
	} {
		tw.Write([]byte(row + "\n"))
	}
	tw.Flush()
	s := scrubber{}.with("pr_abcdefghij", "<Sunrise id>").with("4242", "<pid>")
	got := s.table(in.String() + `{"at": "2026-03-14T15:00:00.123+01:00", "unset": "` + zeroTime + `", "left_ns": 123, "rate_left_this_minute": 249}` + "\n")
	want := `NAME      ID             PID    STARTED  TOKEN               LAST REQUEST         LEFT/MIN       BREAKER   OK/FAILED
Sunrise   <Sunrise id>   <pid>  <time>   <span>              <span> ago 200 <ms>  <n>/250        closed 0  3/0
Lakeside  pr_0123456789  14242  <time>   expired <span> ago  none yet             <n>/250 local  open 5    0/1
{"at": "<time>", "unset": "0001-01-01T00:00:00Z", "left_ns": <ns>, "rate_left_this_minute": <n>}
`
	if got != want {
		t.Fatalf("scrubbed:\n%s\nwant:\n%s", got, want)
	}
}

package mcp

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCleanDropsNarrativesAndKeepsOrder(t *testing.T) {
	t.Parallel()
	in := `{"resourceType":"Observation", "id":"o1",
		"text":{"status":"generated","div":"<div>big</div>"},
		"valueQuantity":{"value":1.50,"unit":"mg/dL"},
		"contained":[{"resourceType":"Medication","text":{"status":"extensions","div":"<div/>","extension":[{"url":"x"}]}}],
		"code":{"text":"a plain string text stays"},
		"presentedForm":[{"contentType":"text/plain","data":"` + strings.Repeat("QUJD", 3000) + `"},{"data":"QUJD"}]}`
	var c cleaned
	out, err := clean(context.Background(), []byte(in), &c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.50,"unit":"mg/dL"},` +
		`"contained":[{"resourceType":"Medication","text":{"status":"extensions","extension":[{"url":"x"}]}}],` +
		`"code":{"text":"a plain string text stays"},` +
		`"presentedForm":[{"contentType":"text/plain","data":"(healow-mcp left out 11 KiB of inline base64 data to keep the answer small)"},{"data":"QUJD"}]}`
	if string(out) != want {
		t.Fatalf("clean =\n%s\nwant\n%s", out, want)
	}
	if c.narratives != 2 || c.data != 1 {
		t.Fatalf("counted %+v", c)
	}
	for _, bad := range []string{`{"a":`, `[1,`, ``, `{"a" 1}`} {
		if _, err := clean(context.Background(), []byte(bad), &c); err == nil {
			t.Errorf("clean(%q) accepted broken JSON", bad)
		}
	}
}

func TestPageFitsUnderTheCap(t *testing.T) {
	t.Parallel()
	entry := func(id string, size int) string {
		return `{"fullUrl":"x","resource":{"resourceType":"DiagnosticReport","id":"` + id + `","conclusion":"` + strings.Repeat("a", size) + `"},"search":{"mode":"match"}}`
	}
	body := `{"resourceType":"Bundle","type":"searchset","total":7,"link":[{"relation":"next","url":"https://h/fhir/r4/X/DiagnosticReport?_page=2"}],"entry":[` +
		entry("a", 25<<10) + "," + entry("b", 25<<10) + "," + entry("c", 25<<10) + "," + entry("d", 100) + `]}`
	p, err := readPage(context.Background(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.kept != 2 || !p.cut() || p.matchesKept() != 2 || *p.total != 7 || p.next == "" {
		t.Fatalf("kept %d of %d, next %q", p.kept, len(p.entries), p.next)
	}
	if n := len(p.bundle()); n > MaxResultBytes {
		t.Fatalf("bundle is %d bytes", n)
	}
	note := p.note("count", 0)
	for _, w := range []string{"first 2 of this page's 4", "DiagnosticReport/c", "count=2", "next skips them"} {
		if !strings.Contains(note, w) {
			t.Errorf("note %q does not say %q", note, w)
		}
	}
	one, _ := readPage(context.Background(), []byte(`{"resourceType":"Bundle","entry":[`+entry("huge", 70<<10)+`]}`))
	if one.kept != 0 || !strings.Contains(one.note("count", 0), "DiagnosticReport/huge) alone is larger") {
		t.Fatalf("an entry over the cap: kept %d, note %q", one.kept, one.note("count", 0))
	}
	if _, err := readPage(context.Background(), []byte(`{"resourceType":"OperationOutcome"}`)); err == nil {
		t.Error("an OperationOutcome was read as a page")
	}
}

// An answer nested 2,000 deep (4 MB) is refused at level 100, in one pass, with words that say
// why; one just within the bound is read. BenchmarkClean says how long each takes.
func TestCleanRefusesDeepNesting(t *testing.T) {
	t.Parallel()
	var c cleaned
	_, err := clean(context.Background(), deepBody(2000, 4<<20), &c)
	if !errors.Is(err, errTooDeep) || !strings.Contains(answerError(err).Error(), "the practice's answer nests objects and lists more than 100 levels deep") {
		t.Fatalf("a body nested 2,000 deep: %v", err)
	}
	levels := maxDepth/2 - 1 // two a level, and the last object
	c = cleaned{}
	out, err := clean(context.Background(), deepBody(levels, 1<<20), &c)
	if err != nil || c.narratives != levels || strings.Contains(string(out), `"div"`) {
		t.Fatalf("a body nested %d deep: %v, %d narratives", 2*levels+1, err, c.narratives)
	}
	if _, err := readPage(context.Background(), deepBody(2000, 4<<20)); err == nil || !strings.Contains(err.Error(), "more than 100 levels deep") {
		t.Fatalf("readPage of a body nested 2,000 deep: %v", err)
	}
}

// A caller who gave up stops the work: clean looks at its context as it goes.
func TestCleanStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var c cleaned
	if _, err := clean(ctx, realisticBundle(1<<20), &c); !errors.Is(err, context.Canceled) {
		t.Fatalf("clean with a cancelled context: %v", err)
	}
	if _, err := readPage(ctx, realisticBundle(1<<20)); !errors.Is(err, context.Canceled) {
		t.Fatalf("readPage with a cancelled context: %v", err)
	}
}

package mcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
)

type recordAnswer struct {
	Matches  []struct{ Type, ID, Date, Practice, Snippet string }
	More     int
	Coverage []struct {
		Practice, State, Read string
		Failed, Unsearchable  []string
	}
}

func (r recordAnswer) find(typ, practice, word string) bool {
	for _, m := range r.Matches {
		if m.Type == typ && m.Practice == practice && strings.Contains(strings.ToLower(m.Snippet), word) {
			return true
		}
	}
	return false
}

// A word written only inside a document's text is found, and pointed to by the document; so is
// a problem's name, at the practice that records it. The image is named as not searched; the
// PDF is searched.
func TestSearchRecordFindsDocumentTextAndResources(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Clock: actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))})
	cs := session(t, env)
	sunrise, lakeside := connectBoth(t, env, cs)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "complaints"}, &r)
	if len(r.Coverage) != 2 || r.Coverage[0].State != "complete" || r.Coverage[1].State != "complete" {
		t.Fatalf("coverage %+v", r.Coverage)
	}
	for _, p := range []sandbox.Practice{sunrise, lakeside} {
		if !r.find("DocumentReference", p.Name, "complaints") {
			t.Errorf("the progress note's text at %s is not found: %+v", p.Name, r.Matches)
		}
	}
	for _, m := range r.Matches {
		if m.Type != "DocumentReference" {
			t.Errorf("a word only in documents' text matched a %s: %+v", m.Type, m)
		}
	}
	if u := strings.Join(r.Coverage[0].Unsearchable, " | "); strings.Contains(u, "application/pdf") || !strings.Contains(u, "image/png") {
		t.Errorf("unsearchable documents: %q; want the image and not the PDF", u)
	}

	callOK(t, cs, "search_record", map[string]any{"text": "asthma", "practices": []string{lakeside.Name}}, &r)
	if !r.find("Condition", lakeside.Name, "asthma") {
		t.Errorf("the Condition asthma is not found: %+v", r.Matches)
	}
	if len(r.Coverage) != 1 {
		t.Errorf("coverage of practices not asked: %+v", r.Coverage)
	}

	// Insurance is read too, as the typed tools read it, at the patient's own Coverage.
	callOK(t, cs, "search_record", map[string]any{"text": "health plan", "practices": []string{sunrise.Name}}, &r)
	if !r.find("Coverage", sunrise.Name, "health plan") {
		t.Errorf("the Coverage is not found: %+v", r.Matches)
	}

	// Words in HTML, C-CDA and RTF documents are found through their text, not their markup.
	for _, word := range []string{"handout", "instructions", "ClinicalDocument", "fonttbl"} {
		callOK(t, cs, "search_record", map[string]any{"text": word, "practices": []string{sunrise.Name}}, &r)
		t.Logf("%s: %d matches", word, len(r.Matches))
		if (word == "ClinicalDocument" || word == "fonttbl") && len(r.Matches) > 0 {
			t.Errorf("markup %q matched: %+v", word, r.Matches)
		}
	}
	callErr(t, cs, "search_record", map[string]any{"text": "  ,; "}, "text:")
}

// While a practice's record is still being read, an answer says it covers part of it: how
// many kinds of record and documents it has read, and that it is still building.
func TestSearchRecordWhileBuildingSaysWhatItCovers(t *testing.T) {
	t.Parallel()
	clock := actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))
	env := testenv.Start(t, testenv.Options{Clock: clock})
	cs := session(t, env)
	lakeside := env.Sandbox.Practices()[1]
	connectThroughTools(t, env, cs, lakeside)

	gate := make(chan struct{})
	env.Sandbox.SetFaults(lakeside.Code, sandbox.Faults{Gate: gate})
	answered := searchHeld(t, env, clock, cs, lakeside.Name)
	clock.Advance(20 * time.Second)
	r := <-answered
	if len(r.Coverage) != 1 || r.Coverage[0].State != "building" || !strings.HasPrefix(r.Coverage[0].Read, "0 of 15 kinds of record, 0 documents") {
		t.Fatalf("coverage while the practice holds every request: %+v", r.Coverage)
	}
	close(gate)
	env.Sandbox.SetFaults(lakeside.Code, sandbox.Faults{})
	callOK(t, cs, "search_record", map[string]any{"text": "asthma"}, &r)
	if len(r.Coverage) != 1 || r.Coverage[0].State != "complete" || !strings.HasPrefix(r.Coverage[0].Read, "15 of 15 kinds of record, 5 documents") {
		t.Fatalf("coverage once the practice answers: %+v", r.Coverage)
	}
}

// searchHeld calls search_record in the background for a practice whose requests the sandbox
// holds, and returns once the call waits for the build: its wait and the held request's
// timeout are armed.
func searchHeld(t *testing.T, env *testenv.Env, clock *actor.Fake, cs *sdk.ClientSession, practice string) <-chan recordAnswer {
	t.Helper()
	before := clock.Timers()
	answered := make(chan recordAnswer, 1)
	go func() {
		var r recordAnswer
		callOK(t, cs, "search_record", map[string]any{"text": "asthma", "practices": []string{practice}}, &r)
		answered <- r
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := clock.WaitTimers(ctx, before+2); err != nil {
		t.Fatal(err)
	}
	return answered
}

// A call that waits for a build tells, as it reads, how far it has come: counts and the
// practice's name, no word of the record.
func TestSearchRecordReportsProgress(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Clock: actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))})
	sunrise := env.Sandbox.Practices()[0]
	env.Connect(t, sunrise)
	if err := env.Tree.Registry.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cs, notes := progressSession(t, env, nil)
	r := <-callAsync(cs, "search_record", map[string]any{"text": "complaints"}, "tok")
	succeeded(t, r)
	// Notifications come before the result; a slow client sees fewer, the last always.
	var said []string
	for !strings.Contains(strings.Join(said, "\n"), "practices done") {
		said = append(said, next(t, notes).Message)
	}
	all := strings.Join(said, "\n")
	// Steps between may be coalesced into the last by a busy sender, so only their form is checked.
	t.Logf("progress:\n%s", all)
	for _, m := range said {
		if strings.Contains(m, ": read ") && !strings.Contains(m, " of 15 kinds of record, ") {
			t.Errorf("step %q does not count what was read", m)
		}
	}
	if !strings.Contains(all, "answered (1 of 1 practices done)") {
		t.Errorf("progress:\n%s", all)
	}
	if strings.Contains(strings.ToLower(all), "complaints") || strings.Contains(all, sunrise.PatientName) {
		t.Errorf("progress tells the record:\n%s", all)
	}
}

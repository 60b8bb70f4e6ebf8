package mcp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healow-mcp/healow-mcp/internal/actor"
	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/internal/testenv"
	"github.com/healow-mcp/healow-mcp/mcp"
)

// A word that appears only in the text of a PDF (the sandbox's referral note) is found at both
// practices, its snippet in the document's words. A PDF the practice serves damaged is named
// as not searched, with why, and the rest of that practice's record is searched all the same.
func TestSearchRecordFindsPDFTextAndNamesDamagedPDFs(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Clock: actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))})
	cs := session(t, env)
	sunrise, lakeside := connectBoth(t, env, cs)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "consultant"}, &r)
	for _, p := range []sandbox.Practice{sunrise, lakeside} {
		if !r.find("DocumentReference", p.Name, "question for the consultant") {
			t.Errorf("the referral PDF's text at %s is not found: %+v", p.Name, r.Matches)
		}
	}
	if len(r.Matches) != 2 {
		t.Errorf("a word only in the PDFs matched %d things: %+v", len(r.Matches), r.Matches)
	}
	for _, c := range r.Coverage {
		if u := strings.Join(c.Unsearchable, " | "); strings.Contains(u, "pdf") || strings.Contains(u, "PDF") {
			t.Errorf("%s: the PDF is named unsearchable: %q", c.Practice, u)
		}
	}

	env.Sandbox.SetFaults(lakeside.Code, sandbox.Faults{DamagedPDFs: true})
	callOK(t, cs, "search_record", map[string]any{"text": "consultant", "rebuild": true}, &r)
	if !r.find("DocumentReference", sunrise.Name, "consultant") || r.find("DocumentReference", lakeside.Name, "consultant") {
		t.Errorf("matches with lakeside's PDF damaged: %+v", r.Matches)
	}
	var lake []string
	for _, c := range r.Coverage {
		if c.Practice == lakeside.Name {
			lake = c.Unsearchable
			if c.State != "complete" {
				t.Errorf("lakeside's build did not complete: %+v", c)
			}
		}
	}
	if u := strings.Join(lake, " | "); !strings.Contains(u, "DocumentReference/") || !strings.Contains(u, "the PDF is damaged or not one") {
		t.Errorf("the damaged PDF is not named with why: %q", u)
	}
	callOK(t, cs, "search_record", map[string]any{"text": "complaints", "practices": []string{lakeside.Name}}, &r)
	if !r.find("DocumentReference", lakeside.Name, "complaints") {
		t.Errorf("lakeside's other documents are not searched: %+v", r.Matches)
	}
}

// A server not given a PDF reader reads no PDF: each is named as not searched, with why, and
// the rest of the record is searched.
func TestSearchRecordWithoutAPDFReaderNamesPDFsNotRead(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Clock: actor.NewFake(time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC))})
	cs := connect(t, mcp.NewServer(env.Tree.Registry))
	sunrise := env.Sandbox.Practices()[0]
	connectThroughTools(t, env, cs, sunrise)

	var r recordAnswer
	callOK(t, cs, "search_record", map[string]any{"text": "consultant"}, &r)
	if len(r.Matches) != 0 {
		t.Errorf("a word only in the PDFs matched: %+v", r.Matches)
	}
	if len(r.Coverage) != 1 || !strings.Contains(strings.Join(r.Coverage[0].Unsearchable, " | "), "PDFs are not read by this server") {
		t.Errorf("the PDFs are not named as not read: %+v", r.Coverage)
	}
	callOK(t, cs, "search_record", map[string]any{"text": "complaints"}, &r)
	if !r.find("DocumentReference", sunrise.Name, "complaints") {
		t.Errorf("the other documents are not searched: %+v", r.Matches)
	}
}

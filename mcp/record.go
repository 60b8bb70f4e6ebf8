package mcp

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/mcp/recordindex"
	"github.com/healow-mcp/healow-mcp/practice"
)

type recordIn struct {
	Text      string   `json:"text" jsonschema:"words to find"`
	Practices []string `json:"practices,omitempty"`
	Rebuild   bool     `json:"rebuild,omitempty" jsonschema:"read the record again"`
}

type recordOut struct {
	Matches  []recordMatch    `json:"matches" jsonschema:"best first; read them with the typed tools"`
	More     int              `json:"more,omitempty" jsonschema:"matches left out"`
	Coverage []recordCoverage `json:"coverage" jsonschema:"how much of each practice's record was searched"`
}

type recordMatch struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Date     string `json:"date,omitempty"`
	Practice string `json:"practice"`
	Snippet  string `json:"snippet"`
}

type recordCoverage struct {
	Practice     string   `json:"practice"`
	State        string   `json:"state" jsonschema:"complete, or building: the search covered part of the record"`
	Read         string   `json:"read"`
	Failed       []string `json:"failed,omitempty" jsonschema:"what could not be read"`
	Unsearchable []string `json:"unsearchable,omitempty" jsonschema:"documents whose text was not searched"`
}

const (
	maxRecordMatches = 20
	// recordWait is how long a call waits for builds to finish before answering from what they
	// have read: long enough for a small record, short of clients' timeouts.
	recordWait    = 20 * time.Second
	maxRecordText = 200
)

func (t *tools) addRecordSearch(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:         "search_record",
		Description:  "Find words anywhere in the record, documents' text included, at every connected practice (or those named): pointers with snippets.",
		OutputSchema: schemaFor[recordOut](),
		Annotations:  readOnly("Search the whole record"),
	}, t.searchRecord)
}

func (t *tools) searchRecord(ctx context.Context, _ *sdk.CallToolRequest, in recordIn) (*sdk.CallToolResult, recordOut, error) {
	text := strings.TrimSpace(in.Text)
	if len(recordindex.Words(text)) == 0 || len(text) > maxRecordText {
		return nil, recordOut{}, fmt.Errorf("text: give one to a few words to find (letters or digits, at most %d characters)", maxRecordText)
	}
	connected, err := t.reg.Actors(ctx)
	if err != nil {
		return nil, recordOut{}, explain(err)
	}
	actors, err := t.summaryActors(ctx, in.Practices)
	if err != nil {
		return nil, recordOut{}, err
	}
	// Whose record each practice reads now (an index of the patient it was connected as before
	// is another person's record, and is built again), and what answers call the practice.
	patients, names := make([]string, len(actors)), make([]string, len(actors))
	for i, a := range actors {
		info, err := a.Info(ctx)
		if err != nil {
			return nil, recordOut{}, explain(err)
		}
		patients[i], names[i] = info.PatientID, cmp.Or(info.Name, a.ID())
	}
	recs := t.records()
	views, err := recs.start(ctx, actors, patients, connected, in.Rebuild)
	if err != nil {
		return nil, recordOut{}, err
	}
	t.awaitBuilds(ctx, recs, actors, names, views)
	if now, err := recs.views(ctx, actors...); err == nil {
		views = now // the counts as they are, for coverage
	}

	out := recordOut{Matches: []recordMatch{}, Coverage: []recordCoverage{}}
	var hits []recordindex.Hit
	total := 0
	for i, v := range views {
		if v.gone { // disconnected during the call: its record is not answered from
			continue
		}
		h, n := v.idx.Search(text, maxRecordMatches)
		hits, total = append(hits, h...), total+n
		out.Coverage = append(out.Coverage, v.coverage(names[i]))
	}
	// Scores of two practices' indexes compare: the same weights made both.
	recordindex.Sort(hits)
	for _, h := range hits[:min(len(hits), maxRecordMatches)] {
		typ, id, _ := strings.Cut(h.Doc.Ref, "/")
		// What a practice sent is quoted with a bound, as everywhere else.
		out.Matches = append(out.Matches, recordMatch{Type: cutText(typ, 64), ID: cutText(id, 64), Date: h.Doc.Date, Practice: h.Doc.Practice, Snippet: h.Snippet})
	}
	out.More = total - len(out.Matches)
	return nil, out, nil
}

// awaitBuilds waits for the builds to finish, or recordWait, telling progress as they read.
func (t *tools) awaitBuilds(ctx context.Context, recs *recordIndexes, actors []*practice.Actor, names []string, views []recordView) {
	timer := t.clock.NewTimer(recordWait)
	defer timer.Stop()
	p := progressFrom(ctx)
	p.Expect(len(views))
	for i, v := range views {
		for !v.done {
			select {
			case <-v.changed:
				now, err := recs.views(ctx, actors[i])
				if err != nil {
					return
				}
				if v = now[0]; !v.done {
					p.Step(fmt.Sprintf("%s: read %s", names[i], v.read()))
				}
			case <-timer.C():
				return
			case <-ctx.Done():
				return
			}
		}
		p.Answered(actors[i], len(v.failed) == 0)
	}
}

// coverage says how much of the record v has read.
func (v recordView) coverage(practice string) recordCoverage {
	state := "building"
	if v.done {
		state = "complete"
	}
	return recordCoverage{Practice: practice, State: state, Read: v.read(), Failed: v.failed, Unsearchable: v.unsearchable}
}

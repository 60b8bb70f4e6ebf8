package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/practice"
)

type summaryIn struct {
	Practices []string `json:"practices,omitempty" jsonschema:"names or ids of the practices to summarise; every connected practice when left out"`
}

// summaryOut is a patient's record in one page: what a clinician reads first, from every
// practice, each fact once with the practices that hold it.
type summaryOut struct {
	Patient       []summaryItem     `json:"patient" jsonschema:"name, birth date and gender as each practice records them"`
	Problems      []summaryItem     `json:"problems" jsonschema:"active problems"`
	Medications   []summaryItem     `json:"medications" jsonschema:"active prescriptions, with dose instructions"`
	Allergies     []summaryItem     `json:"allergies" jsonschema:"allergies and intolerances that are not resolved, with reactions"`
	Immunizations []summaryItem     `json:"immunizations" jsonschema:"the latest dose of each vaccine given"`
	Vitals        []summaryItem     `json:"vitals" jsonschema:"the latest measurement of each vital sign"`
	Labs          []summaryItem     `json:"labs" jsonschema:"the latest result of each lab test of the last two years"`
	Practices     []summaryPractice `json:"practices" jsonschema:"every practice asked, and whether it answered"`
	Note          string            `json:"note,omitempty" jsonschema:"what was left out, and how to see it"`
}

type summaryItem struct {
	Name  string   `json:"name"`
	Value string   `json:"value,omitempty" jsonschema:"a result with its unit, a dose, reactions"`
	Flag  string   `json:"flag,omitempty" jsonschema:"the lab's interpretation, e.g. H or L"`
	Date  string   `json:"date,omitempty"`
	From  []string `json:"from" jsonschema:"the practices that hold this fact"`

	codes []string // what it is, for finding the same fact at another practice
}

type summaryPractice struct {
	Name  string `json:"name"`
	State string `json:"state" jsonschema:"answered, partly (some kinds of record could not be read: see error) or failed"`
	Error string `json:"error,omitempty" jsonschema:"what went wrong and what the user can do"`
}

// Bounds on a summary: it is one page for a model to read, and the typed tools hold the rest.
const (
	maxSummaryItems = 25 // per kind of record
	summaryLabYears = 2
)

func (t *tools) addSummary(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name: "patient_summary",
		Description: "The patient's record at every connected practice (or those named) in one call: demographics, active problems " +
			"and medications, allergies, immunizations, latest vital signs and latest lab results (two years), each fact with its practices.",
		OutputSchema: schemaFor[summaryOut](),
		Annotations:  readOnly("Summarise the patient's record"),
	}, t.summary)
}

// section is one kind of record a summary reads from each practice.
type section struct {
	out   func(*summaryOut) *[]summaryItem
	query func(now time.Time) *query
	keep  func(r summaryRow) bool
	item  func(r summaryRow) summaryItem
	// dated sections hold one fact per date: the same result from two practices is the same
	// only on the same day with the same value. They list the newest first.
	dated bool
	// otherwise, when set, is asked when query found nothing: the lab results of the last two
	// years, else the latest ever, which a patient would rather see than nothing.
	otherwise func() *query
	said      string // what a summary says when otherwise answered
}

// summaryRow is what a summary reads of a compact row, whatever its type.
type summaryRow struct {
	Date, Test, Problem, Medication, Substance, Vaccine, Code, Value, Flag, Status, Verification, Dose, Reactions, Criticality string
	Parts                                                                                                                      []struct{ Test, Value string }
}

func (r summaryRow) codes() []string {
	if r.Code == "" {
		return nil
	}
	return strings.Split(r.Code, ", ")
}

func day(date string) string { return date[:min(len(date), 10)] }

var sections = []section{
	{
		out: func(o *summaryOut) *[]summaryItem { return &o.Problems },
		query: func(time.Time) *query {
			q := newQuery("Condition")
			q.category = "problem-list-item"
			q.fixed.Set("category", "http://terminology.hl7.org/CodeSystem/condition-category|problem-list-item")
			return q
		},
		keep: func(r summaryRow) bool {
			return slices.Contains([]string{"", "active", "recurrence", "relapse"}, r.Status) && r.Verification != "entered-in-error" && r.Verification != "refuted"
		},
		item: func(r summaryRow) summaryItem { return summaryItem{Name: r.Problem} },
	},
	{
		out: func(o *summaryOut) *[]summaryItem { return &o.Medications },
		query: func(time.Time) *query {
			q := newQuery("MedicationRequest")
			q.fixed.Set("status", "active")
			q.fixed.Set("_include", "MedicationRequest:medication")
			return q
		},
		keep: func(r summaryRow) bool { return true },
		item: func(r summaryRow) summaryItem { return summaryItem{Name: r.Medication, Value: r.Dose} },
	},
	{
		out:   func(o *summaryOut) *[]summaryItem { return &o.Allergies },
		query: func(time.Time) *query { return newQuery("AllergyIntolerance") },
		keep: func(r summaryRow) bool {
			return (r.Status == "" || r.Status == "active") && r.Verification != "entered-in-error" && r.Verification != "refuted"
		},
		item: func(r summaryRow) summaryItem {
			value := r.Reactions
			if r.Criticality != "" {
				value = strings.TrimPrefix(value+"; criticality "+r.Criticality, "; ")
			}
			return summaryItem{Name: r.Substance, Value: value}
		},
	},
	{
		out:   func(o *summaryOut) *[]summaryItem { return &o.Immunizations },
		query: func(time.Time) *query { q := newQuery("Immunization"); q.latest = true; return q },
		keep:  func(r summaryRow) bool { return r.Status != "not-done" && r.Status != "entered-in-error" },
		item:  func(r summaryRow) summaryItem { return summaryItem{Name: r.Vaccine, Date: day(r.Date)} },
		dated: true,
	},
	{
		out: func(o *summaryOut) *[]summaryItem { return &o.Vitals },
		query: func(time.Time) *query {
			q := newQuery("Observation")
			q.friendlyCategory("category", "vital-signs")
			q.latest = true
			return q
		},
		keep:  resultKept,
		item:  resultItem,
		dated: true,
	},
	{
		out: func(o *summaryOut) *[]summaryItem { return &o.Labs },
		query: func(now time.Time) *query {
			q := newQuery("Observation")
			q.friendlyCategory("category", "laboratory")
			q.params.Add("date", "ge"+now.AddDate(-summaryLabYears, 0, 0).Format(time.DateOnly))
			q.latest = true
			return q
		},
		keep:  resultKept,
		item:  resultItem,
		dated: true,
		otherwise: func() *query {
			q := newQuery("Observation")
			q.friendlyCategory("category", "laboratory")
			q.latest = true
			return q
		},
		said: "has no lab result of the last two years, so its latest result of each test is listed",
	},
}

func resultKept(r summaryRow) bool {
	return r.Status != "cancelled" && r.Status != "entered-in-error"
}

func resultItem(r summaryRow) summaryItem {
	value := r.Value
	if value == "" {
		var parts []string
		for _, p := range r.Parts {
			parts = append(parts, strings.TrimSpace(p.Test+" "+p.Value))
		}
		value = strings.Join(parts, ", ")
	}
	return summaryItem{Name: r.Test, Value: value, Flag: r.Flag, Date: day(r.Date)}
}

// practiceRead is what one practice answered for a summary.
type practiceRead struct {
	name     string
	patient  summaryItem
	sections [][]summaryRow
	failed   []string // what could not be read, with what to do
	fatal    error    // the practice could not be asked at all
	notes    []string
	withheld int
}

func (t *tools) summary(ctx context.Context, _ *sdk.CallToolRequest, in summaryIn) (*sdk.CallToolResult, summaryOut, error) {
	actors, err := t.summaryActors(ctx, in.Practices)
	if err != nil {
		return nil, summaryOut{}, err
	}
	now := t.clock.Now()
	reads := make([]practiceRead, len(actors))
	eachPractice(ctx, actors, func(i int, a *practice.Actor) bool {
		reads[i] = t.readForSummary(ctx, a, now)
		return reads[i].fatal == nil
	})
	out := mergeSummary(reads)
	return nil, out, nil
}

// eachPractice asks every practice at once, telling progress as each answers: a call over
// several practices waits for the slowest, not their sum. read says whether the practice
// answered.
func eachPractice(ctx context.Context, actors []*practice.Actor, read func(i int, a *practice.Actor) bool) {
	progressFrom(ctx).Expect(len(actors))
	var wg sync.WaitGroup
	for i, a := range actors {
		wg.Go(func() {
			progressFrom(ctx).Answered(a, read(i, a))
		})
	}
	wg.Wait()
}

// summaryActors finds the practices named, or every connected one.
func (t *tools) summaryActors(ctx context.Context, names []string) ([]*practice.Actor, error) {
	if len(names) == 0 {
		actors, err := t.reg.Actors(ctx)
		if err != nil {
			return nil, explain(err)
		}
		if len(actors) == 0 {
			return nil, fmt.Errorf("no practice is connected yet: %s first", t.reg.Install().ConnectFirst())
		}
		return actors, nil
	}
	if len(names) > 50 {
		return nil, fmt.Errorf("practices: %d names given; name at most 50, or leave practices out for every connected one", len(names))
	}
	var actors []*practice.Actor
	for _, n := range names {
		a, err := t.reg.Lookup(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("practices: %w", explain(err))
		}
		if !slices.Contains(actors, a) {
			actors = append(actors, a)
		}
	}
	return actors, nil
}

// readForSummary reads every section of one practice, concurrently; what fails is named, and
// the rest still answers.
func (t *tools) readForSummary(ctx context.Context, a *practice.Actor, now time.Time) practiceRead {
	info, err := a.Info(ctx)
	if err != nil {
		return practiceRead{name: a.ID(), fatal: explain(err)}
	}
	pr := practiceRead{name: info.Name, sections: make([][]summaryRow, len(sections))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Go(func() {
		p, err := t.readOne(ctx, a, target{resource: "Patient", id: info.PatientID}, practice.Request{Resource: "Patient", ID: info.PatientID})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			pr.failed = append(pr.failed, "demographics: "+err.Error())
			return
		}
		pr.patient = demographics(p.Resource)
	})
	for i, sec := range sections {
		wg.Go(func() {
			rows, withheld, err := t.readSection(ctx, a, sec.query(now), sec.keep)
			said := ""
			if err == nil && len(rows) == 0 && sec.otherwise != nil {
				rows, withheld, err = t.readSection(ctx, a, sec.otherwise(), sec.keep)
				if len(rows) > 0 {
					said = fmt.Sprintf("%s %s.", info.Name, sec.said)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				pr.failed = append(pr.failed, err.Error())
				return
			}
			pr.withheld += withheld
			pr.sections[i] = rows
			if said != "" {
				pr.notes = append(pr.notes, said)
			}
		})
	}
	wg.Wait()
	// Every kind of record failing the same way is one failure of the practice, said once.
	if len(pr.failed) == len(sections)+1 {
		pr.fatal, pr.failed = fmt.Errorf("%s", firstLine(pr.failed[0])), nil
	}
	if h := t.healthNote(ctx, a); h != "" {
		pr.notes = append(pr.notes, h)
	}
	return pr
}

// readSection reads one kind of record and keeps the rows keep wants.
func (t *tools) readSection(ctx context.Context, a *practice.Actor, q *query, keep func(summaryRow) bool) ([]summaryRow, int, error) {
	h, err := t.read(ctx, a, q)
	if err != nil {
		return nil, 0, err
	}
	var rows []summaryRow
	for _, it := range h.entries {
		var r summaryRow
		if json.Unmarshal(it.rowJ, &r) == nil && keep(r) {
			rows = append(rows, r)
		}
	}
	return rows, h.extra.withheld, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return cutText(s, 600)
}

// demographics is a Patient as a summary line: name, birth date, gender.
func demographics(raw json.RawMessage) summaryItem {
	var p struct {
		Name []struct {
			Text   string   `json:"text"`
			Family string   `json:"family"`
			Given  []string `json:"given"`
		} `json:"name"`
		BirthDate string `json:"birthDate"`
		Gender    string `json:"gender"`
	}
	json.Unmarshal(raw, &p)
	name := ""
	if len(p.Name) > 0 {
		n := p.Name[0]
		name = n.Text
		if name == "" {
			name = strings.TrimSpace(strings.Join(append(n.Given, n.Family), " "))
		}
	}
	return summaryItem{Name: cutText(name, quote.Max), Value: cutText(p.Gender, quote.Max), Date: cutText(p.BirthDate, 32)}
}

// mergeSummary lists each fact once, with every practice that holds it, in the practices'
// order.
func mergeSummary(reads []practiceRead) summaryOut {
	out := summaryOut{Patient: []summaryItem{}, Problems: []summaryItem{}, Medications: []summaryItem{}, Allergies: []summaryItem{},
		Immunizations: []summaryItem{}, Vitals: []summaryItem{}, Labs: []summaryItem{}}
	var notes []string
	withheld := 0
	for _, pr := range reads {
		state := summaryPractice{Name: pr.name, State: "answered"}
		switch {
		case pr.fatal != nil:
			state.State, state.Error = "failed", firstLine(pr.fatal.Error())
			out.Practices = append(out.Practices, state)
			continue
		case len(pr.failed) > 0:
			state.State, state.Error = "partly", firstLine(strings.Join(pr.failed, " | "))
		}
		out.Practices = append(out.Practices, state)
		withheld += pr.withheld
		notes = append(notes, pr.notes...)
		if pr.patient.Name != "" || pr.patient.Date != "" {
			add(&out.Patient, pr.patient, pr.name, true)
		}
		for i, sec := range sections {
			for _, r := range pr.sections[i] {
				it := sec.item(r)
				it.codes = r.codes()
				add(sec.out(&out), it, pr.name, sec.dated)
			}
		}
	}
	for _, sec := range sections {
		list := sec.out(&out)
		if sec.dated {
			slices.SortStableFunc(*list, func(a, b summaryItem) int { return strings.Compare(b.Date, a.Date) })
		}
		if n := len(*list); n > maxSummaryItems {
			*list = (*list)[:maxSummaryItems]
			notes = append(notes, fmt.Sprintf("%d more %s are left out; the typed search tools list them all.", n-maxSummaryItems, sectionName(sec, &out)))
		}
	}
	if withheld > 0 {
		notes = append(notes, fmt.Sprintf("%d records the practices returned were left out because they are not the connected patient's.", withheld))
	}
	out.Note = strings.Join(notes, " ")
	return out
}

// add lists it once: a fact already listed from another practice gains that practice.
func add(list *[]summaryItem, it summaryItem, from string, dated bool) {
	for i, have := range *list {
		if sameFact(have, it, dated) {
			if !slices.Contains(have.From, from) {
				(*list)[i].From = append(have.From, from)
			}
			return
		}
	}
	it.From = []string{from}
	*list = append(*list, it)
}

// sameFact tells whether two practices' items are one fact: the same thing (a shared code, else
// the same name) and, for dated facts, the same day and value.
func sameFact(a, b summaryItem, dated bool) bool {
	same := strings.EqualFold(a.Name, b.Name)
	if len(a.codes) > 0 && len(b.codes) > 0 {
		same = slices.ContainsFunc(a.codes, func(c string) bool { return slices.Contains(b.codes, c) })
	}
	return same && (!dated || a.Date == b.Date && a.Value == b.Value)
}

func sectionName(sec section, out *summaryOut) string {
	switch sec.out(out) {
	case &out.Problems:
		return "problems"
	case &out.Medications:
		return "medications"
	case &out.Allergies:
		return "allergies"
	case &out.Immunizations:
		return "immunizations"
	case &out.Vitals:
		return "vital signs"
	}
	return "lab results"
}

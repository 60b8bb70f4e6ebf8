package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/healow-mcp/healow-mcp/internal/quote"
	"github.com/healow-mcp/healow-mcp/mcp/chart"
	"github.com/healow-mcp/healow-mcp/practice"
)

type trendIn struct {
	Name      string   `json:"name,omitempty" jsonschema:"as in search_observation: ldl, weight, blood pressure"`
	Code      string   `json:"code,omitempty"`
	Practices []string `json:"practices,omitempty" jsonschema:"all when left out"`
}

// trendOut is one test's results over time, grouped in series of one test in one unit.
type trendOut struct {
	Series    []trendSeries     `json:"series"`
	Charted   int               `json:"charted" jsonschema:"points drawn on the chart"`
	More      int               `json:"more,omitempty" jsonschema:"older results left out"`
	Practices []summaryPractice `json:"practices"`
	Note      string            `json:"note,omitempty"`
}

type trendSeries struct {
	Test    string     `json:"test"`
	Unit    string     `json:"unit,omitempty"`
	Range   string     `json:"range,omitempty"`
	Charted bool       `json:"charted" jsonschema:"whether the chart shows it: it shows one unit"`
	Rows    []trendRow `json:"rows" jsonschema:"oldest first"`

	key       string // the test and the unit's kind, for merging practices
	low, high *float64
}

type trendRow struct {
	Date  string   `json:"date"`
	Value float64  `json:"value"`
	Flag  string   `json:"flag,omitempty"`
	From  []string `json:"from" jsonschema:"the practices that hold this result"`

	when time.Time
}

// maxTrendPoints bounds a trend: enough for years of monthly results, few enough for a model to
// read and a chart to show apart.
const maxTrendPoints = 300

func (t *tools) addTrend(s *sdk.Server) {
	addTool(t, s, &sdk.Tool{
		Name:         "lab_trend",
		Description:  "One test or vital sign over time at every connected practice (or those named): all results, oldest first, with a PNG chart.",
		OutputSchema: schemaFor[trendOut](),
		Annotations:  readOnly("Chart a test over time"),
	}, t.trend)
}

// trendRead is what one practice answered for a trend.
type trendRead struct {
	name     string
	points   []trendPoint
	fatal    error
	note     string
	textual  int // results without a number
	withheld int
}

// trendPoint is one numeric result as one practice holds it.
type trendPoint struct {
	test, id, unit, flag, rng string
	when                      time.Time
	value                     float64
	low, high                 *float64
}

func (t *tools) trend(ctx context.Context, _ *sdk.CallToolRequest, in trendIn) (*sdk.CallToolResult, trendOut, error) {
	if strings.TrimSpace(in.Name) == "" && strings.TrimSpace(in.Code) == "" {
		return nil, trendOut{}, fmt.Errorf("give name (e.g. %s) or code", trendExamples)
	}
	q := trendQuery(in)
	if err := q.err(); err != nil {
		return nil, trendOut{}, err
	}
	actors, err := t.summaryActors(ctx, in.Practices)
	if err != nil {
		return nil, trendOut{}, err
	}
	reads := make([]trendRead, len(actors))
	eachPractice(ctx, actors, func(i int, a *practice.Actor) bool {
		reads[i] = t.readForTrend(ctx, a, trendQuery(in))
		return reads[i].fatal == nil
	})
	out, c := mergeTrend(reads, maxTrendPoints)
	if len(out.Series) == 0 {
		if slices.ContainsFunc(out.Practices, func(p summaryPractice) bool { return p.State == "answered" }) {
			asked := cmpOr(in.Name, in.Code)
			return nil, trendOut{}, fmt.Errorf("no numeric result of %s at %s. Try a name such as %s, or give a LOINC code; search_observation lists results by other words",
				quote.Quote(cutText(asked, 100)), practiceNames(out.Practices), trendExamples)
		}
		return nil, trendOut{}, fmt.Errorf("no practice could be read: %s", out.Practices[0].Error)
	}
	c.Title = cmpOr(in.Name, in.Code)
	if len(c.Series) == 1 {
		c.Title = c.Series[0].Name
	}
	if r, n := utf8.DecodeRuneInString(c.Title); r != utf8.RuneError {
		c.Title = string(unicode.ToUpper(r)) + c.Title[n:]
	}
	png, drawn, err := chart.Draw(c)
	if err != nil {
		return nil, trendOut{}, err
	}
	out.Charted = drawn
	b, err := encode(out)
	if err != nil {
		return nil, trendOut{}, fmt.Errorf("encoding the result: %w", err)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{
		&sdk.TextContent{Text: string(b)},
		&sdk.ImageContent{Data: png, MIMEType: "image/png"},
	}}, out, nil
}

const trendExamples = "ldl, cholesterol, a1c, glucose, creatinine, tsh, weight, bmi, blood pressure"

// trendQuery is search_observation's search by name or code: the same LOINC table and, for a
// name it does not hold, the same matching of results' names.
func trendQuery(in trendIn) *query {
	q := newQuery("Observation")
	q.token("code", "code", in.Code)
	q.byName("name", in.Name, true)
	return q
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return strings.TrimSpace(a)
	}
	return strings.TrimSpace(b)
}

func practiceNames(ps []summaryPractice) string {
	var names []string
	for _, p := range ps {
		if p.State != "failed" {
			names = append(names, quote.Quote(p.Name))
		}
	}
	return strings.Join(names, ", ")
}

// readForTrend reads one practice's results of the test, all dates.
func (t *tools) readForTrend(ctx context.Context, a *practice.Actor, q *query) trendRead {
	info, err := a.Info(ctx)
	if err != nil {
		return trendRead{name: a.ID(), fatal: explain(err)}
	}
	tr := trendRead{name: info.Name}
	h, err := t.read(ctx, a, q)
	if err != nil {
		tr.fatal = err
		return tr
	}
	tr.withheld = h.extra.withheld
	tr.note = strings.TrimSpace(h.extra.note + " " + t.healthNote(ctx, a))
	for _, it := range h.entries {
		pts, textual := numbers(it)
		tr.points = append(tr.points, pts...)
		tr.textual += textual
	}
	return tr
}

// observed is what a trend reads of an Observation beyond its row: the numbers.
type observed struct {
	Code           fhirCode    `json:"code"`
	ValueQuantity  *fhirAmount `json:"valueQuantity"`
	ReferenceRange []struct {
		Low  *fhirAmount `json:"low"`
		High *fhirAmount `json:"high"`
	} `json:"referenceRange"`
	Component []struct {
		Code           fhirCode    `json:"code"`
		ValueQuantity  *fhirAmount `json:"valueQuantity"`
		ReferenceRange []struct {
			Low  *fhirAmount `json:"low"`
			High *fhirAmount `json:"high"`
		} `json:"referenceRange"`
	} `json:"component"`
}

type fhirCode struct {
	Coding []struct{ System, Code string } `json:"coding"`
}

// id is what the result is of, the same at every practice: its first LOINC code, else its name.
func (c fhirCode) id(name string) string {
	for _, cd := range c.Coding {
		if cd.System == loincSystem && cd.Code != "" {
			return cd.Code
		}
	}
	return strings.ToLower(name)
}

type fhirAmount struct {
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	System string   `json:"system"`
	Code   string   `json:"code"`
}

func (q *fhirAmount) unit() string {
	if q.Code != "" && q.System == "http://unitsofmeasure.org" {
		if q.Unit != "" {
			return q.Unit
		}
		return q.Code
	}
	return cmpOr(q.Unit, q.Code)
}

// numbers are an item's numeric results: its value, or each of its components' (blood
// pressure's systolic and diastolic); textual counts those without a number.
func numbers(it item) (pts []trendPoint, textual int) {
	var o observed
	var row struct {
		Test, Flag, Range string
		Parts             []struct{ Test, Flag, Range string }
	}
	if json.Unmarshal(it.full, &o) != nil || json.Unmarshal(it.rowJ, &row) != nil || it.row.When.IsZero() {
		return nil, 1
	}
	if o.ValueQuantity != nil && o.ValueQuantity.Value != nil {
		p := trendPoint{test: row.Test, id: o.Code.id(row.Test), unit: o.ValueQuantity.unit(), flag: row.Flag, rng: row.Range,
			when: it.row.When, value: *o.ValueQuantity.Value}
		if len(o.ReferenceRange) > 0 {
			p.low, p.high = amount(o.ReferenceRange[0].Low), amount(o.ReferenceRange[0].High)
		}
		return []trendPoint{p}, 0
	}
	for i, c := range o.Component {
		if c.ValueQuantity == nil || c.ValueQuantity.Value == nil || i >= len(row.Parts) {
			continue
		}
		part := row.Parts[i]
		p := trendPoint{test: part.Test, id: c.Code.id(part.Test), unit: c.ValueQuantity.unit(), flag: part.Flag, rng: part.Range,
			when: it.row.When, value: *c.ValueQuantity.Value}
		if len(c.ReferenceRange) > 0 {
			p.low, p.high = amount(c.ReferenceRange[0].Low), amount(c.ReferenceRange[0].High)
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return nil, 1
	}
	return pts, 0
}

func amount(q *fhirAmount) *float64 {
	if q == nil {
		return nil
	}
	return q.Value
}

// sameKind lists the units a trend converts between: units of one kind of quantity that differ
// only by a factor, as UCUM defines them, written as practices write them. Units absent here
// (mmol/L beside mg/dL needs the substance's molar mass; °F beside °C an offset) are charted
// apart, never mixed. factor converts to the kind's first unit.
var sameKind = map[string]struct {
	kind   string
	factor float64
}{
	"g/L": {"mass concentration", 1}, "mg/dL": {"mass concentration", 0.01}, "g/dL": {"mass concentration", 10}, "mg/L": {"mass concentration", 0.001},
	"kg": {"mass", 1}, "g": {"mass", 0.001}, "lb": {"mass", 0.45359237}, "lbs": {"mass", 0.45359237}, "[lb_av]": {"mass", 0.45359237},
}

// unitKind is what a unit's values can be charted with: its kind when sameKind holds it, else
// the unit itself.
func unitKind(unit string) string {
	if k, ok := sameKind[unit]; ok {
		return k.kind
	}
	return "unit " + unit
}

// convert is v in unit from, given in unit to, which are of one kind.
func convert(v float64, from, to string) float64 {
	if from == to {
		return v
	}
	x := v * sameKind[from].factor / sameKind[to].factor
	return math.Round(x*1000) / 1000
}

// mergeTrend groups the practices' results into series of one test in one kind of unit, each
// result once with every practice that holds it, oldest first, at most limit results (the
// newest), and the chart of the unit with the most results.
func mergeTrend(reads []trendRead, limit int) (trendOut, chart.Chart) {
	out := trendOut{Series: []trendSeries{}, Practices: []summaryPractice{}}
	var notes []string
	var all []trendPoint
	var from []string
	textual, withheld := 0, 0
	for _, r := range reads {
		if r.fatal != nil {
			out.Practices = append(out.Practices, summaryPractice{Name: r.name, State: "failed", Error: firstLine(r.fatal.Error())})
			continue
		}
		out.Practices = append(out.Practices, summaryPractice{Name: r.name, State: "answered"})
		if r.note != "" {
			notes = append(notes, r.note)
		}
		textual += r.textual
		withheld += r.withheld
		all = append(all, r.points...)
		for range r.points {
			from = append(from, r.name)
		}
	}
	// The unit a series shows is the one most of its results carry.
	units := map[string]map[string]int{}
	for _, p := range all {
		k := p.id + "|" + unitKind(p.unit)
		if units[k] == nil {
			units[k] = map[string]int{}
		}
		units[k][p.unit]++
	}
	shown := func(k string) string {
		best, n := "", -1
		for u, c := range units[k] {
			if c > n || c == n && u < best {
				best, n = u, c
			}
		}
		return best
	}
	converted := map[string]bool{}
	byKey := map[string]int{}
	for i, p := range all {
		k := p.id + "|" + unitKind(p.unit)
		unit := shown(k)
		if p.unit != unit {
			converted[p.unit+" to "+unit] = true
		}
		s, ok := byKey[k]
		if !ok {
			s = len(out.Series)
			byKey[k] = s
			out.Series = append(out.Series, trendSeries{Test: p.test, Unit: unit, Range: p.rng, key: k})
		}
		ser := &out.Series[s]
		if ser.low == nil && ser.high == nil && (p.low != nil || p.high != nil) {
			ser.low, ser.high = conv(p.low, p.unit, unit), conv(p.high, p.unit, unit)
			if p.unit == unit {
				ser.Range = p.rng
			}
		}
		v := convert(p.value, p.unit, unit)
		date := p.when.Format(time.DateOnly)
		if j := slices.IndexFunc(ser.Rows, func(r trendRow) bool { return r.Date == date && r.Value == v }); j >= 0 {
			if !slices.Contains(ser.Rows[j].From, from[i]) {
				ser.Rows[j].From = append(ser.Rows[j].From, from[i])
			}
			continue
		}
		ser.Rows = append(ser.Rows, trendRow{Date: date, Value: v, Flag: p.flag, From: []string{from[i]}, when: p.when})
	}
	out.More = keepNewest(out.Series, limit)
	for i := range out.Series {
		slices.SortStableFunc(out.Series[i].Rows, func(a, b trendRow) int { return a.when.Compare(b.when) })
	}
	out.Series = slices.DeleteFunc(out.Series, func(s trendSeries) bool { return len(s.Rows) == 0 })
	for c := range converted {
		notes = append(notes, "Results in "+c+" were converted.")
	}
	slices.Sort(notes[len(notes)-len(converted):])
	if out.More > 0 {
		notes = append(notes, fmt.Sprintf("%d older results are left out; search_observation with date_to lists them.", out.More))
	}
	if textual > 0 {
		notes = append(notes, fmt.Sprintf("%d results without a number are left out; search_observation lists them.", textual))
	}
	if withheld > 0 {
		notes = append(notes, fmt.Sprintf("%d records the practices returned were left out because they are not the connected patient's.", withheld))
	}
	c := trendChart(&out, reads)
	if other := len(out.Series) - charted(out.Series); other > 0 {
		notes = append(notes, fmt.Sprintf("The chart shows results in %s only; %d series in other units are listed, not charted, as units are never mixed.", c.Unit, other))
	}
	out.Note = strings.Join(notes, " ")
	return out, c
}

func conv(v *float64, from, to string) *float64 {
	if v == nil {
		return nil
	}
	x := convert(*v, from, to)
	return &x
}

// keepNewest drops the oldest rows beyond limit and says how many it dropped.
func keepNewest(series []trendSeries, limit int) int {
	var dates []time.Time
	for _, s := range series {
		for _, r := range s.Rows {
			dates = append(dates, r.when)
		}
	}
	drop := len(dates) - limit
	if drop <= 0 {
		return 0
	}
	slices.SortFunc(dates, time.Time.Compare)
	cut := dates[drop] // keep rows from cut on; of rows at cut itself, keep as many as fit
	atCut := 0
	for _, d := range dates[drop:] {
		if d.Equal(cut) {
			atCut++
		}
	}
	for i := range series {
		series[i].Rows = slices.DeleteFunc(series[i].Rows, func(r trendRow) bool {
			if r.when.Before(cut) {
				return true
			}
			if r.when.Equal(cut) {
				if atCut == 0 {
					return true
				}
				atCut--
			}
			return false
		})
	}
	return drop
}

// trendChart is the chart of the unit with the most results.
func trendChart(out *trendOut, reads []trendRead) chart.Chart {
	perUnit := map[string]int{}
	for _, s := range out.Series {
		perUnit[s.Unit] += len(s.Rows)
	}
	unit, n := "", -1
	for _, s := range out.Series { // in the series' order, so ties go to the first
		if perUnit[s.Unit] > n {
			unit, n = s.Unit, perUnit[s.Unit]
		}
	}
	// The practices with a point on the chart, in the order they were asked: the first is
	// marked with a filled circle, the plainest shape.
	c := chart.Chart{Unit: unit}
	marked := map[string]bool{}
	for _, s := range out.Series {
		for _, r := range s.Rows {
			if s.Unit == unit {
				marked[r.From[0]] = true
			}
		}
	}
	index := map[string]int{}
	for _, r := range reads {
		if r.fatal == nil && marked[r.name] {
			index[r.name] = len(c.Practices)
			c.Practices = append(c.Practices, r.name)
		}
	}
	for i := range out.Series {
		s := &out.Series[i]
		if s.Unit != unit {
			continue
		}
		s.Charted = true
		cs := chart.Series{Name: s.Test, Low: s.low, High: s.high, Range: s.Range}
		for _, r := range s.Rows {
			cs.Points = append(cs.Points, chart.Point{When: r.when, Value: r.Value, Practice: index[r.From[0]]})
		}
		c.Series = append(c.Series, cs)
	}
	return c
}

func charted(series []trendSeries) int {
	n := 0
	for _, s := range series {
		if s.Charted {
			n++
		}
	}
	return n
}

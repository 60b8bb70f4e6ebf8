package rows

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The FHIR R4 datatypes rows read, with only the members a row shows.

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

type quantity struct {
	Value      json.Number `json:"value"`
	Comparator string      `json:"comparator"`
	Unit       string      `json:"unit"`
	Code       string      `json:"code"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

type annotation struct {
	Text string `json:"text"`
}

type fhirRange struct {
	Low  *quantity `json:"low"`
	High *quantity `json:"high"`
}

type ratio struct {
	Numerator   *quantity `json:"numerator"`
	Denominator *quantity `json:"denominator"`
}

// Bounds on what a row repeats of the practice's words.
const (
	maxText  = 200 // a name, a status, a value
	maxLong  = 600 // a conclusion, a note, dose instructions
	maxCodes = 3   // codings listed per concept
	maxItems = 8   // reactions, members, activities, results listed per row
)

// cut bounds s to n bytes, never inside a character, marking the cut.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	end := n
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + "…"
}

// name is what a concept is called: its text, else its first coding's display, else its
// first code.
func (c concept) name() string {
	if c.Text != "" {
		return cut(c.Text, maxText)
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cut(cd.Display, maxText)
		}
	}
	for _, cd := range c.Coding {
		if cd.Code != "" {
			return cut(cd.Code, maxText)
		}
	}
	return ""
}

// codes lists a concept's codings as system|code (code alone when it has no system).
func (c concept) codes() []string {
	var out []string
	for _, cd := range c.Coding {
		if cd.Code == "" {
			continue
		}
		s := cd.Code
		if cd.System != "" {
			s = cd.System + "|" + cd.Code
		}
		out = append(out, cut(s, maxText))
		if len(out) == maxCodes {
			break
		}
	}
	return out
}

// displays lists the coding displays a concept's name does not already say, so that a second
// name (a LOINC long name under the practice's own text) is not lost.
func (c concept) displays() []string {
	var out []string
	name := c.name()
	for _, cd := range c.Coding {
		if cd.Display != "" && cut(cd.Display, maxText) != name {
			out = append(out, cut(cd.Display, maxText))
		}
	}
	return out
}

func joinCodes(c concept) string { return strings.Join(c.codes(), ", ") }

// names lists several concepts' names, joined.
func names(cs []concept) string {
	var out []string
	for _, c := range cs {
		if n := c.name(); n != "" {
			out = append(out, n)
		}
		if len(out) == maxItems {
			break
		}
	}
	return strings.Join(out, "; ")
}

// codeOrText is a concept as its codes when it is only coded (a status, a flag), else its name.
func codeOrText(cs []concept) string {
	var out []string
	for _, c := range cs {
		switch {
		case len(c.Coding) > 0 && c.Coding[0].Code != "":
			out = append(out, cut(c.Coding[0].Code, maxText))
		case c.Text != "":
			out = append(out, cut(c.Text, maxText))
		}
		if len(out) == maxItems {
			break
		}
	}
	return strings.Join(out, ", ")
}

// text renders a quantity as its value and unit, e.g. "<5.0 mg/dL".
func (q *quantity) text() string {
	if q == nil || q.Value == "" && q.Unit == "" {
		return ""
	}
	unit := q.Unit
	if unit == "" {
		unit = q.Code
	}
	return cut(strings.TrimSpace(q.Comparator+q.Value.String()+" "+unit), maxText)
}

func (r fhirRange) text() string {
	low, high := r.Low.text(), r.High.text()
	if r.Low != nil && r.High != nil && r.Low.Comparator == "" && r.High.Comparator == "" && r.Low.Value != "" && r.High.Value != "" && r.Low.Unit == r.High.Unit && r.Low.Code == r.High.Code {
		// One unit for both ends: "135–145 mmol/L".
		unit := r.High.Unit
		if unit == "" {
			unit = r.High.Code
		}
		return cut(strings.TrimSpace(r.Low.Value.String()+"–"+r.High.Value.String()+" "+unit), maxText)
	}
	switch {
	case low != "" && high != "":
		return low + " – " + high
	case low != "":
		return "≥" + low
	case high != "":
		return "≤" + high
	}
	return ""
}

func (r ratio) text() string {
	n, d := r.Numerator.text(), r.Denominator.text()
	if d == "" {
		return n
	}
	return n + " / " + d
}

// who is a reference as a reader knows it: its display, else the reference itself.
func (r reference) who() string {
	if r.Display != "" {
		return cut(r.Display, maxText)
	}
	return cut(r.Reference, maxText)
}

func refs(rs []reference) string {
	var out []string
	for _, r := range rs {
		if w := r.who(); w != "" {
			out = append(out, w)
		}
		if len(out) == maxItems {
			break
		}
	}
	return strings.Join(out, "; ")
}

func notes(ns []annotation) string {
	var out []string
	for _, n := range ns {
		if t := strings.TrimSpace(n.Text); t != "" {
			out = append(out, t)
		}
	}
	return cut(strings.Join(out, " | "), maxLong)
}

// span renders a period as "start – end", or its one end.
func (p period) span() string {
	switch {
	case p.Start != "" && p.End != "":
		return cut(p.Start, maxText) + " – " + cut(p.End, maxText)
	case p.End != "":
		return "until " + cut(p.End, maxText)
	}
	return cut(p.Start, maxText)
}

// first returns the first non-empty string.
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

package rows

import (
	"encoding/json"
	"strconv"
	"strings"
)

// observationRow is a result or measurement: what was measured, when, the value against its
// range, and how the lab flagged it.
type observationRow struct {
	ID       string    `json:"id"`
	Date     string    `json:"date,omitempty"`
	Test     string    `json:"test,omitempty"`
	Code     string    `json:"code,omitempty"`
	Value    string    `json:"value,omitempty"`
	Flag     string    `json:"flag,omitempty"`
	Range    string    `json:"range,omitempty"`
	Parts    []partRow `json:"parts,omitempty"`
	Status   string    `json:"status,omitempty"`
	Category string    `json:"category,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// partRow is one component of an observation: blood pressure's systolic and diastolic.
type partRow struct {
	Test  string `json:"test,omitempty"`
	Code  string `json:"code,omitempty"`
	Value string `json:"value,omitempty"`
	Flag  string `json:"flag,omitempty"`
	Range string `json:"range,omitempty"`
}

// value[x], as an Observation and its components carry it.
type value struct {
	Quantity        *quantity  `json:"valueQuantity"`
	CodeableConcept *concept   `json:"valueCodeableConcept"`
	String          *string    `json:"valueString"`
	Boolean         *bool      `json:"valueBoolean"`
	Integer         *int64     `json:"valueInteger"`
	Range           *fhirRange `json:"valueRange"`
	Ratio           *ratio     `json:"valueRatio"`
	Time            string     `json:"valueTime"`
	DateTime        string     `json:"valueDateTime"`
	Period          *period    `json:"valuePeriod"`
	SampledData     *struct{}  `json:"valueSampledData"`
	Absent          *concept   `json:"dataAbsentReason"`
}

func (v value) text() string {
	switch {
	case v.Quantity != nil:
		return v.Quantity.text()
	case v.CodeableConcept != nil:
		return v.CodeableConcept.name()
	case v.String != nil:
		return cut(*v.String, maxLong)
	case v.Boolean != nil:
		return strconv.FormatBool(*v.Boolean)
	case v.Integer != nil:
		return strconv.FormatInt(*v.Integer, 10)
	case v.Range != nil:
		return v.Range.text()
	case v.Ratio != nil:
		return v.Ratio.text()
	case v.Time != "":
		return cut(v.Time, maxText)
	case v.DateTime != "":
		return cut(v.DateTime, maxText)
	case v.Period != nil:
		return v.Period.span()
	case v.SampledData != nil:
		return "sampled data (ask for detail full)"
	case v.Absent != nil:
		return "none: " + v.Absent.name()
	}
	return ""
}

type referenceRange struct {
	Low  *quantity `json:"low"`
	High *quantity `json:"high"`
	Text string    `json:"text"`
	Type *concept  `json:"type"`
}

// ranges renders reference ranges: "4.0 % – 5.6 %", with its text and type when it has them.
func ranges(rs []referenceRange) string {
	var out []string
	for _, r := range rs {
		s := fhirRange{Low: r.Low, High: r.High}.text()
		if r.Text != "" {
			s = strings.TrimSpace(s + " " + cut(r.Text, maxText))
		}
		if r.Type != nil && r.Type.name() != "" {
			s += " (" + r.Type.name() + ")"
		}
		if s != "" {
			out = append(out, s)
		}
		if len(out) == maxItems {
			break
		}
	}
	return strings.Join(out, "; ")
}

func observation(raw json.RawMessage, _ Resolver) (any, string, concept, error) {
	var o struct {
		ID                string           `json:"id"`
		Status            string           `json:"status"`
		Category          []concept        `json:"category"`
		Code              concept          `json:"code"`
		EffectiveDateTime string           `json:"effectiveDateTime"`
		EffectivePeriod   period           `json:"effectivePeriod"`
		EffectiveInstant  string           `json:"effectiveInstant"`
		Issued            string           `json:"issued"`
		Interpretation    []concept        `json:"interpretation"`
		ReferenceRange    []referenceRange `json:"referenceRange"`
		Note              []annotation     `json:"note"`
		Component         []struct {
			Code           concept          `json:"code"`
			Interpretation []concept        `json:"interpretation"`
			ReferenceRange []referenceRange `json:"referenceRange"`
			value
		} `json:"component"`
		value
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, "", concept{}, err
	}
	date := first(o.EffectiveDateTime, o.EffectiveInstant, o.EffectivePeriod.span(), o.Issued)
	row := observationRow{
		ID: cut(o.ID, maxText), Date: cut(date, maxText),
		Test: o.Code.name(), Code: joinCodes(o.Code),
		Value: o.value.text(), Flag: codeOrText(o.Interpretation), Range: ranges(o.ReferenceRange),
		Status: cut(o.Status, maxText), Category: codeOrText(o.Category), Note: notes(o.Note),
	}
	for i, c := range o.Component {
		if i == maxItems*2 {
			break
		}
		row.Parts = append(row.Parts, partRow{
			Test: c.Code.name(), Code: joinCodes(c.Code), Value: c.value.text(),
			Flag: codeOrText(c.Interpretation), Range: ranges(c.ReferenceRange),
		})
	}
	return row, first(o.EffectiveDateTime, o.EffectiveInstant, o.EffectivePeriod.Start, o.Issued), o.Code, nil
}

package rows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Row is one resource as a row.
type Row struct {
	// Fields is the row itself, as a result shows it: a struct of the type's facts.
	Fields any
	// When is the clinical date the row is ordered by (when it was measured, started, given,
	// written); zero when the resource has none.
	When time.Time
	// Key is what "the latest of each" groups by: the first code of what the resource is about
	// (the test, the vaccine), else its name.
	Key string
	// Codes are every code of what the resource is about, and Text its names (texts and
	// displays), for finding it by a name the model gives.
	Codes []string
	Text  string
}

// JSON is the row as a result shows it; "<" and "&" stay as they are, for a model to read.
func (r Row) JSON() (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.Fields); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Resolver finds a resource the practice sent alongside a page (a Medication that a
// prescription names only by reference), or returns nil.
type Resolver func(reference string) json.RawMessage

// builder makes one type's row; about is set from what the resource is about.
type builder func(raw json.RawMessage, resolve Resolver) (fields any, when string, about concept, err error)

var builders = map[string]builder{
	"Observation":        observation,
	"Condition":          condition,
	"AllergyIntolerance": allergy,
	"Immunization":       immunization,
	"Procedure":          procedure,
	"MedicationRequest":  medicationRequest,
	"Encounter":          encounter,
	"DiagnosticReport":   diagnosticReport,
	"DocumentReference":  documentReference,
	"ServiceRequest":     serviceRequest,
	"CarePlan":           carePlan,
	"Goal":               goal,
	"CareTeam":           careTeam,
	"Device":             device,
	"Coverage":           coverage,
}

// Known reports whether rows has a row for resources of type typ.
func Known(typ string) bool { _, ok := builders[typ]; return ok }

// unreadable is the row of a resource whose members are not what FHIR says.
type unreadable struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Unreadable string `json:"unreadable"`
}

// other is the row of a resource of a type rows has no row for.
type other struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Of builds a resource's row. It never fails: a resource rows cannot read becomes a row that
// says why, so that one odd resource does not cost the rest of a page.
func Of(raw json.RawMessage, resolve Resolver) Row {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Row{Fields: unreadable{Unreadable: "not a FHIR resource"}}
	}
	id, typ := cut(head.ID, maxText), cut(head.ResourceType, maxText)
	build, ok := builders[head.ResourceType]
	if !ok {
		return Row{Fields: other{ID: id, Type: typ}}
	}
	if resolve == nil {
		resolve = func(string) json.RawMessage { return nil }
	}
	fields, when, about, err := build(raw, resolve)
	if err != nil {
		return Row{Fields: unreadable{ID: id, Type: typ, Unreadable: why(err)}}
	}
	r := Row{Fields: fields, When: When(when), Codes: about.codes(), Text: strings.Join(append([]string{about.name()}, about.displays()...), " | ")}
	r.Key = first(strings.Join(r.Codes, ","), strings.ToLower(about.name()))
	return r
}

// why says what was wrong with a resource in FHIR's words, without Go's type names.
func why(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return cut(fmt.Sprintf("its %s is a JSON %s, not what FHIR has there; ask for detail full to see it", te.Field, te.Value), maxText)
	}
	return "its members are not what FHIR has; ask for detail full to see it"
}

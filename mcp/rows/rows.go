package rows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
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

// Types are the types rows has a row for, sorted: the kinds of record the typed tools read.
func Types() []string { return slices.Sorted(maps.Keys(builders)) }

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
	resourceType, rid, err := head(raw)
	if err != nil {
		return Row{Fields: unreadable{Unreadable: "not a FHIR resource"}}
	}
	id, typ := cut(rid, maxText), cut(resourceType, maxText)
	build, ok := builders[resourceType]
	if !ok {
		if !json.Valid(raw) { // no builder's decoding has checked it
			return Row{Fields: unreadable{Unreadable: "not a FHIR resource"}}
		}
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

// head reads a resource's type and id as encoding/json would (keys matched without regard to
// case, the last one counting), with the quick scanner: decoding the whole resource into two
// fields cost a third of a row, and the builder decodes it anyway.
func head(raw []byte) (resourceType, id string, err error) {
	var bad error
	err = jsonscan.Members(raw, func(key string, value []byte) {
		switch {
		case jsonscan.Same(key, "resourceType"):
			bad = errors.Join(bad, text(value, &resourceType))
		case jsonscan.Same(key, "id"):
			bad = errors.Join(bad, text(value, &id))
		}
	})
	return resourceType, id, errors.Join(err, bad)
}

// text decodes a JSON string; one without escapes, as types and ids are, is taken as it is.
func text(value []byte, s *string) error {
	if n := len(value); n >= 2 && value[0] == '"' && value[n-1] == '"' {
		plain := value[1 : n-1]
		if bytes.IndexByte(plain, '\\') < 0 && bytes.IndexByte(plain, '"') < 0 && utf8.Valid(plain) && !bytes.ContainsFunc(plain, unicode.IsControl) {
			*s = string(plain)
			return nil
		}
	}
	return json.Unmarshal(value, s)
}

// why says what was wrong with a resource in FHIR's words, without Go's type names.
func why(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return cut(fmt.Sprintf("its %s is a JSON %s, not what FHIR has there; ask for detail full to see it", te.Field, te.Value), maxText)
	}
	return "its members are not what FHIR has; ask for detail full to see it"
}

package practice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// Withheld counts what the actor left out of an answer because it was not the connected
// patient's, or not what was searched for. The request itself was limited to the patient; this
// is the check of what came back, for servers that do not honour the limit.
type Withheld struct {
	OtherPatient int `json:"other_patient,omitempty"` // records that name another patient
	OtherType    int `json:"other_type,omitempty"`    // matches of another type than the one searched
	Unverified   int `json:"unverified,omitempty"`    // records of a kind whose patient cannot be told
}

// Total is how many records were left out.
func (w Withheld) Total() int { return w.OtherPatient + w.OtherType + w.Unverified }

// String says in words what was left out, or "" when nothing was.
func (w Withheld) String() string {
	var parts []string
	if w.OtherPatient > 0 {
		parts = append(parts, fmt.Sprintf("%d that name%s another patient", w.OtherPatient, plural(w.OtherPatient, "s", "")))
	}
	if w.OtherType > 0 {
		parts = append(parts, fmt.Sprintf("%d of another type than the one searched", w.OtherType))
	}
	if w.Unverified > 0 {
		parts = append(parts, fmt.Sprintf("%d whose patient cannot be told", w.Unverified))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("The practice's answer held %d record%s that healow left out: %s. Only the connected patient's records are shown.",
		w.Total(), plural(w.Total(), "", "s"), strings.Join(parts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// screened is an answer after the check: its body (rewritten only when something was left
// out), what was left out, and the attachments (absolute Binary URLs inside the base) that the
// patient's records in it hold.
type screened struct {
	body        []byte
	withheld    Withheld
	attachments []string
	next        string // the Bundle's next link, which the actor will follow as the server's own
	resources   int    // the resources it holds after the check: a Bundle's entries, else 1
	typ         string // its resourceType, or its first entry's
}

// screen checks a 2xx answer against the patient before it leaves the actor. A read of a type
// that holds patient data must name the patient; a search's entries that name another patient,
// that are matches of another type than the one searched, or whose patient cannot be told are
// left out and counted. Answers that are not FHIR JSON are left to the caller, which reads them.
//
// It reads a Bundle twice, once whole and once entry by entry, decoding only the elements that
// name the patient.
func screen(req Request, base, patient string, body []byte) (screened, error) {
	out := screened{body: body, resources: 1}
	trimmed := bytes.TrimSpace(body)
	if req.Metadata || len(trimmed) == 0 || trimmed[0] != '{' {
		return out, nil
	}
	if req.ID != "" || req.Attachment != "" {
		return screenRead(req, base, patient, out, trimmed)
	}
	top, err := fieldsOf(trimmed)
	switch {
	case errors.As(err, new(twiceError)) && str(top.get("resourceType")) == "Bundle":
		return out, fmt.Errorf("the practice's Bundle is malformed: %w, so what it holds is ambiguous", err)
	case err != nil:
		return out, nil // malformed: the caller says how
	case str(top.get("resourceType")) != "Bundle":
		out.typ = str(top.get("resourceType"))
		return out, nil // not a Bundle: the caller says how
	}
	var entries []json.RawMessage
	if raw := top.get("entry"); len(raw) > 0 && raw[0] == '[' {
		if jsonscan.Elements(raw, func(e []byte) { entries = append(entries, e) }) != nil {
			return out, nil
		}
	}
	out, err = screenBundle(searchedType(req, base), base, patient, trimmed, entries)
	out.next = nextLink(top.get("link"))
	return out, err
}

func screenRead(req Request, base, patient string, out screened, body []byte) (screened, error) {
	fields, err := fieldsOf(body)
	if errors.As(err, new(twiceError)) {
		return out, fmt.Errorf("%w: the practice's answer is ambiguous (%w), so whose record it is cannot be told", ErrNotThisPatient, err)
	}
	if err != nil {
		return out, nil // not JSON: the caller says so
	}
	typ, id := str(fields.get("resourceType")), str(fields.get("id"))
	out.typ = typ
	binary := req.Attachment != "" || req.Resource == "Binary"
	switch {
	case binary && typ != "Binary":
		return out, nil // the content itself, served raw
	case !binary && typ != req.Resource, !fhir.HoldsPatientData(typ):
		return out, nil // not patient data, or not what was asked: the caller refuses it
	}
	switch v := whose(typ, fields, patient); {
	case v == other:
		return out, fmt.Errorf("%w: %s/%s belongs to another patient, so it is not shown; take ids from this patient's own search results", ErrNotThisPatient, typ, cut(id))
	case v == nobody && typ != "Binary":
		return out, fmt.Errorf("%w: %s/%s does not name the patient who consented, so it is not shown; take ids from this patient's own search results", ErrNotThisPatient, typ, cut(id))
	}
	out.attachments = attachmentsIn(body, base)
	return out, nil
}

// searchedType is the type a search or paging link asks for, or "" when a link does not say.
func searchedType(req Request, base string) string {
	if req.Resource != "" {
		return req.Resource
	}
	u, err := url.Parse(req.Next)
	if err != nil {
		return ""
	}
	rest := strings.Trim(strings.TrimPrefix(u.EscapedPath(), mustPath(base)), "/")
	if fhir.IsResourceType(rest) {
		return rest
	}
	return ""
}

func screenBundle(searched, base, patient string, body []byte, entries []json.RawMessage) (screened, error) {
	out := screened{body: body}
	kept := make([]json.RawMessage, 0, len(entries))
	for _, e := range entries {
		ent, err := fieldsOf(e)
		if raw := ent.get("resource"); err != nil || len(raw) == 0 || raw[0] != '{' {
			if errors.As(err, new(twiceError)) {
				out.withheld.Unverified++ // parsers disagree on what it holds
			} else {
				kept = append(kept, e) // not a resource: the caller refuses the page
			}
			continue
		}
		resource, err := fieldsOf(ent.get("resource"))
		if err != nil {
			out.withheld.Unverified++
			continue
		}
		typ, mode := str(resource.get("resourceType")), ""
		if search, err := fieldsOf(ent.get("search")); err == nil {
			mode = str(search.get("mode"))
		}
		switch {
		case typ == "OperationOutcome":
		case searched != "" && (mode == "" || mode == "match") && typ != searched:
			out.withheld.OtherType++
			continue
		case fhir.HoldsPatientData(typ):
			if _, known := fhir.PatientCompartment(typ); !known {
				out.withheld.Unverified++
				continue
			}
			if whose(typ, resource, patient) == other {
				out.withheld.OtherPatient++
				continue
			}
			out.attachments = append(out.attachments, attachmentsIn(e, base)...)
		}
		kept = append(kept, e)
		if out.typ == "" {
			out.typ = typ
		}
	}
	out.resources = len(kept)
	if out.withheld.Total() == 0 {
		return out, nil
	}
	body, err := withEntries(body, kept)
	if err != nil {
		return screened{}, err
	}
	out.body = body
	return out, nil
}

// nextLink is the url of a Bundle's link with relation "next", or "".
func nextLink(raw json.RawMessage) string {
	var links []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	}
	json.Unmarshal(raw, &links)
	for _, l := range links {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// withEntries rewrites a Bundle with its entry list replaced, keeping every other member and
// their order.
func withEntries(body []byte, entries []json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body))
	buf.WriteByte('{')
	n := 0
	err := jsonscan.Members(body, func(key string, v []byte) {
		if jsonscan.Same(key, "entry") { // the member encoding/json reads as the entries, whatever its case
			if len(entries) == 0 {
				return
			}
			list := make([][]byte, len(entries))
			for i, e := range entries {
				list[i] = e
			}
			v = append(append([]byte{'['}, bytes.Join(list, []byte{','})...), ']')
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	})
	if err != nil {
		return nil, fmt.Errorf("the practice's Bundle is malformed: %w", err)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

type verdict int

const (
	nobody verdict = iota // names no patient
	ours                  // names the connected patient, and no one else
	other                 // names another patient
)

// whose tells whose record a resource is, from the elements that name its subject. Only those
// elements are decoded.
func whose(typ string, fields fields, patient string) verdict {
	if typ == "Patient" {
		if str(fields.get("id")) == patient {
			return ours
		}
		return other
	}
	v := nobody
	kind, _ := fhir.PatientCompartment(typ)
	for _, path := range kind.SubjectPaths {
		head, rest, _ := strings.Cut(path, ".")
		raw := fields.get(head)
		if len(raw) == 0 {
			continue
		}
		var doc any
		if json.Unmarshal(raw, &doc) != nil {
			continue
		}
		var tail []string
		if rest != "" {
			tail = strings.Split(rest, ".")
		}
		for _, ref := range references(doc, tail) {
			id, isPatient := patientOf(ref, false)
			switch {
			case !isPatient:
			case id != patient:
				return other
			default:
				v = ours
			}
		}
	}
	return v
}

// references collects the reference strings of the Reference elements at path in doc, through
// lists at any step.
func references(doc any, path []string) []string {
	switch d := doc.(type) {
	case []any:
		var out []string
		for _, e := range d {
			out = append(out, references(e, path)...)
		}
		return out
	case map[string]any:
		// Keys are matched as encoding/json matches them, without regard to case.
		want := "reference"
		if len(path) > 0 {
			want = path[0]
		}
		var out []string
		for k, v := range d {
			if !jsonscan.Same(k, want) {
				continue
			}
			if len(path) > 0 {
				out = append(out, references(v, path[1:])...)
			} else if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// attachmentsIn lists the Binaries inside base that a resource points to, through an
// Attachment's url or a Reference, as absolute URLs.
func attachmentsIn(raw json.RawMessage, base string) []string {
	if !bytes.Contains(raw, []byte("Binary/")) {
		return nil
	}
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	var walk func(v any, key string, depth int)
	walk = func(v any, key string, depth int) {
		if depth > 64 || len(out) >= maxAttachmentsPerAnswer {
			return
		}
		switch d := v.(type) {
		case map[string]any:
			for k, e := range d {
				walk(e, k, depth+1)
			}
		case []any:
			for _, e := range d {
				walk(e, key, depth+1)
			}
		case string:
			if (key == "url" || key == "reference") && strings.Contains(d, "Binary/") {
				if abs, err := ResolveAttachment(base, d); err == nil {
					if _, ok := BinaryID(base, abs); ok {
						out = append(out, abs)
					}
				}
			}
		}
	}
	walk(doc, "", 0)
	return out
}

// maxAttachmentsPerAnswer bounds what one answer adds to the actor's set of known attachments.
const maxAttachmentsPerAnswer = 1000

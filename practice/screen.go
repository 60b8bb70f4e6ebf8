package practice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
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
}

// screen checks a 2xx answer against the patient before it leaves the actor. A read of a type
// that holds patient data must name the patient; a search's entries that name another patient,
// that are matches of another type than the one searched, or whose patient cannot be told are
// left out and counted. Answers that are not FHIR JSON are left to the caller, which reads them.
func screen(req Request, base, patient string, body []byte) (screened, error) {
	out := screened{body: body}
	trimmed := bytes.TrimSpace(body)
	if req.Metadata || len(trimmed) == 0 || trimmed[0] != '{' {
		return out, nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(trimmed, &head) != nil {
		return out, nil // not JSON: the caller says so
	}
	if req.ID != "" || req.Attachment != "" {
		binary := req.Attachment != "" || req.Resource == "Binary"
		switch typ := head.ResourceType; {
		case binary && typ != "Binary":
			return out, nil // the content itself, served raw
		case !binary && typ != req.Resource, !HoldsPatientData(typ):
			return out, nil // not patient data, or not what was asked: the caller refuses it
		}
		switch v := whose(head.ResourceType, trimmed, patient); {
		case v == other:
			return out, fmt.Errorf("%w: %s/%s belongs to another patient, so it is not shown; take ids from this patient's own search results", ErrNotThisPatient, head.ResourceType, cut(head.ID))
		case v == nobody && head.ResourceType != "Binary":
			return out, fmt.Errorf("%w: %s/%s does not name the patient who consented, so it is not shown; take ids from this patient's own search results", ErrNotThisPatient, head.ResourceType, cut(head.ID))
		}
		out.attachments = attachmentsIn(trimmed, base)
		return out, nil
	}
	if head.ResourceType != "Bundle" {
		return out, nil
	}
	return screenBundle(searchedType(req, base), base, patient, trimmed)
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
	if IsResourceType(rest) {
		return rest
	}
	return ""
}

func screenBundle(searched, base, patient string, body []byte) (screened, error) {
	out := screened{body: body}
	var b struct {
		Entry []json.RawMessage `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil {
		return out, nil // malformed: the caller says how
	}
	kept := make([]json.RawMessage, 0, len(b.Entry))
	for _, e := range b.Entry {
		var ent struct {
			Resource json.RawMessage `json:"resource"`
			Search   struct {
				Mode string `json:"mode"`
			} `json:"search"`
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(e, &ent) != nil || len(ent.Resource) == 0 || json.Unmarshal(ent.Resource, &head) != nil {
			kept = append(kept, e) // not a resource: the caller refuses the page
			continue
		}
		typ := head.ResourceType
		mode := ent.Search.Mode
		switch {
		case typ == "OperationOutcome":
		case searched != "" && (mode == "" || mode == "match") && typ != searched:
			out.withheld.OtherType++
			continue
		case HoldsPatientData(typ):
			if _, known := patientTypes[typ]; !known {
				out.withheld.Unverified++
				continue
			}
			v := whose(typ, ent.Resource, patient)
			if v == other {
				out.withheld.OtherPatient++
				continue
			}
			out.attachments = append(out.attachments, attachmentsIn(ent.Resource, base)...)
		}
		kept = append(kept, e)
	}
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

// withEntries rewrites a Bundle with its entry list replaced, keeping every other member and
// their order.
func withEntries(body []byte, entries []json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("the practice's Bundle is not a JSON object")
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("the practice's Bundle is malformed: %w", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the practice's Bundle is malformed: %w", err)
		}
		if key == "entry" {
			if len(entries) == 0 {
				continue
			}
			if v, err = json.Marshal(entries); err != nil {
				return nil, err
			}
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
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

// whose tells whose record a resource is, from the elements that name its subject.
func whose(typ string, raw json.RawMessage, patient string) verdict {
	if typ == "Patient" {
		var p struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &p)
		if p.ID == patient {
			return ours
		}
		return other
	}
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return nobody
	}
	v := nobody
	for _, path := range patientTypes[typ].subject {
		for _, ref := range references(doc, strings.Split(path, ".")) {
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
		if len(path) == 0 {
			if s, ok := d["reference"].(string); ok {
				return []string{s}
			}
			return nil
		}
		return references(d[path[0]], path[1:])
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

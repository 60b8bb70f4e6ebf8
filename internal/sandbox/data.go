package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// record is one stored resource, with the fields search filters on pulled
// out when the data is built, so a search never re-parses JSON.
type record struct {
	typ, id    string
	patient    string    // owning patient id; "" for resources the practice shares (Practitioner, Organization…)
	date       time.Time // what date search parameters compare against; zero when the type has none
	codes      []string  // "system|code"
	categories []string  // "system|code"
	status     string
	body       json.RawMessage

	contentType string // Binary only
	content     []byte // Binary only
}

// practice is one practice's immutable data set.
type practice struct {
	code, name             string
	address                address // where the directory says it is
	patientID, patientName string
	byType                 map[string][]*record // newest first, then by id
	byRef                  map[string]*record   // "Type/id"
	gone                   map[string]bool      // "Type/id" of deleted records, answered 410
}

// DeletedDocumentID is a DocumentReference every practice deleted (entered in error): reading
// it answers 410 Gone, as FHIR servers do for a deleted resource.
const DeletedDocumentID = "doc-deleted-entered-in-error"

func (p *practice) find(typ, id string) *record { return p.byRef[typ+"/"+id] }

// catalog builds every practice once per process: the data is deterministic
// and read-only, so all servers can share it.
var catalog = sync.OnceValue(func() []*practice {
	out := make([]*practice, 0, len(practiceSpecs))
	for _, spec := range practiceSpecs {
		out = append(out, buildPractice(spec))
	}
	return out
})

// practices are the practices a server serves: n in all, each with a record of visits visits,
// notes of them with a progress note, when that is more than its own (0 keeps the catalog's
// records).
func practices(n, visits, notes int) []*practice {
	if visits == 0 {
		return append(catalog(), copies(n)...)
	}
	var out []*practice
	for i := range max(n, len(practiceSpecs)) {
		spec := practiceSpecs[i%len(practiceSpecs)]
		if i >= len(practiceSpecs) {
			spec = copySpec(spec, i)
		}
		out = append(out, buildPractice(lengthen(spec, visits, notes)))
	}
	return out
}

// lengthen gives spec a record of visits visits a month apart, ending where its own ends, the
// last notes of them (0: all) with a progress note.
func lengthen(spec practiceSpec, visits, notes int) practiceSpec {
	if visits <= spec.visits {
		return spec
	}
	spec.firstVisit = mustDate(spec.firstVisit).AddDate(0, 0, -30*(visits-spec.visits)).Format(time.DateOnly)
	spec.visits, spec.notes = visits, cmp.Or(min(notes, visits), visits)
	return spec
}

// copySpec is spec copied as practice number i (from 0) of a server: a code, name and patient
// id of its own, and its original's record (see copies).
func copySpec(spec practiceSpec, i int) practiceSpec {
	spec.seed = spec.code
	spec.code = fmt.Sprintf("SB%c%c%c%c", 'A'+i/17576%26, 'A'+i/676%26, 'A'+i/26%26, 'A'+i%26)
	spec.name = fmt.Sprintf("%s %d", spec.name, i+1)
	spec.patient.id = fmt.Sprintf("%s-%04d", spec.patient.id[:39], i)
	return spec
}

// copies builds the practices past the catalog's, up to n in all: each a copy of a catalog
// practice under a code, name and patient id of its own. A copy holds its original's record,
// the same results on the same days, as a chart carried from one practice to the next does:
// what tests of results two practices share need.
func copies(n int) []*practice {
	var out []*practice
	for i := len(practiceSpecs); i < n; i++ {
		out = append(out, buildPractice(copySpec(practiceSpecs[i%len(practiceSpecs)], i)))
	}
	return out
}

// builder accumulates one practice's records. Its random source is seeded
// by the practice code (a copy's by its original's), so every run produces the same values
// and ids.
type builder struct {
	spec    practiceSpec
	rng     *rand.Rand
	p       *practice
	visits  []visit
	orgRef  string
	locRef  string
	pcpRef  string
	clinRef []string
}

// visit is one encounter, which most other records hang off.
type visit struct {
	id       string
	start    time.Time
	clinRef  string
	clinName string
}

func buildPractice(spec practiceSpec) *practice {
	h := fnv.New64a()
	h.Write([]byte(cmp.Or(spec.seed, spec.code)))
	seed := h.Sum64()
	b := &builder{
		spec: spec,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		p: &practice{
			code:        spec.code,
			name:        spec.name,
			address:     spec.address,
			patientID:   spec.patient.id,
			patientName: spec.patient.given + " " + spec.patient.family,
			byType:      map[string][]*record{},
			byRef:       map[string]*record{},
			gone:        map[string]bool{"DocumentReference/" + DeletedDocumentID: true},
		},
	}
	b.addShared()
	b.addPatient()
	b.addEncounters()
	b.addLabs()
	b.addVitals()
	b.addSocial()
	b.addConditions()
	b.addMedications()
	b.addAllergies()
	b.addImmunizations()
	b.addCare()
	b.addOrdersAndProcedures()
	b.addDocuments()
	b.addProvenance()
	b.addImagingReports()
	for _, recs := range b.p.byType {
		slices.SortStableFunc(recs, func(a, b *record) int {
			if c := b.date.Compare(a.date); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
	}
	return b.p
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newID makes an opaque, deterministic id; the prefix only helps a human
// reading a bundle, clients must not parse it.
func (b *builder) newID(prefix string) string {
	buf := make([]byte, 12)
	for i := range buf {
		buf[i] = idAlphabet[b.rng.IntN(len(idAlphabet))]
	}
	return prefix + "-" + string(buf)
}

// add stores r with body as its JSON, filling resourceType and id.
func (b *builder) add(r *record, body obj) *record {
	body["resourceType"] = r.typ
	body["id"] = r.id
	raw, err := marshalJSON(body)
	if err != nil {
		panic(fmt.Sprintf("sandbox: marshal %s/%s: %v", r.typ, r.id, err)) // static data: a bug, not a runtime condition
	}
	r.body = raw
	b.p.byType[r.typ] = append(b.p.byType[r.typ], r)
	b.p.byRef[r.typ+"/"+r.id] = r
	return r
}

// own returns a record owned by the practice's patient.
func (b *builder) own(typ, prefix string) *record {
	return &record{typ: typ, id: b.newID(prefix), patient: b.spec.patient.id}
}

func (b *builder) patientRef() obj {
	return ref("Patient/"+b.spec.patient.id, b.p.patientName)
}

// jitter returns base ± spread, uniformly.
func (b *builder) jitter(base, spread float64) float64 {
	return base + spread*(2*b.rng.Float64()-1)
}

// The data's clock: US Eastern standard offset, fixed so output never
// depends on the machine's zone.
var clinicZone = time.FixedZone("-0500", -5*60*60)

func dateTime(t time.Time) string { return t.In(clinicZone).Format(time.RFC3339) }
func dateOnly(t time.Time) string { return t.In(clinicZone).Format(time.DateOnly) }

func mustDate(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, clinicZone)
	if err != nil {
		panic(err)
	}
	return t
}

// obj is a JSON object under construction; the sandbox's resources are
// static fixtures, and literal maps read closer to FHIR than structs would.
type obj = map[string]any

func coding(system, code, display string) obj {
	return obj{"system": system, "code": code, "display": display}
}

func concept(text string, codings ...obj) obj {
	c := obj{"text": text}
	if len(codings) > 0 {
		c["coding"] = codings
	}
	return c
}

func ref(reference, display string) obj {
	r := obj{"reference": reference}
	if display != "" {
		r["display"] = display
	}
	return r
}

func quantity(v float64, unit, ucum string) obj {
	return obj{"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum}
}

func token(system, code string) string { return system + "|" + code }

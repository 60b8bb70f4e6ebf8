package practice

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/internal/sandbox"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// ecwSearchParams are the search parameters eCW's CapabilityStatement declares (see
// ../shared/ecw-facts.md), as the sandbox declares them: Claim, Provenance and the rest have none
// that names the patient.
var ecwSearchParams = func() map[string][]string {
	p := sandbox.SearchParams()
	p["Claim"] = nil
	p["Practitioner"], p["Organization"] = []string{"_id", "name"}, []string{"_id", "name"}
	return p
}()

func capabilityOf(params map[string][]string) *capability {
	c := &capability{searchParams: map[string]map[string]bool{}}
	for typ, names := range params {
		c.searchParams[typ] = map[string]bool{}
		for _, n := range names {
			c.searchParams[typ][n] = true
		}
	}
	return c
}

// testCapability declares every type's first subject parameter, as a generic FHIR server does,
// and eCW's parameters for the types eCW serves.
func testCapability() *capability {
	params := map[string][]string{}
	for _, typ := range fhir.ResourceTypes() {
		if kind, _ := fhir.PatientCompartment(typ); len(kind.SubjectParams) > 0 {
			params[typ] = []string{"_id", kind.SubjectParams[0]}
		}
	}
	for typ, names := range ecwSearchParams {
		params[typ] = names
	}
	params["Claim"] = []string{"_id", "patient"}
	return capabilityOf(params)
}

const limitBase = "https://fhir4.healow.com/fhir/r4/FEIGCD"

// Every search of every FHIR R4 type that can hold patient data goes out limited to the patient,
// through a subject parameter the practice declares, or not at all; types that hold none go out
// as asked.
func TestEverySearchOfPatientDataIsLimited(t *testing.T) {
	t.Parallel()
	for _, typ := range fhir.ResourceTypes() {
		// A server that declares only the last of the type's subject parameters.
		params := map[string][]string{"Practitioner": {"name"}}
		kind, patientData := fhir.PatientCompartment(typ)
		pins := kind.SubjectParams
		if patientData && len(pins) > 0 {
			params[typ] = []string{"_id", "code", pins[len(pins)-1]}
		}
		l := limits{patient: "pat-1", cap: capabilityOf(params)}
		got, err := Request{Resource: typ, Params: url.Values{"code": {"x"}}}.url(limitBase, l)
		switch {
		case !fhir.HoldsPatientData(typ):
			if err != nil || got != limitBase+"/"+typ+"?code=x" {
				t.Errorf("%s holds no patient data: got %q, %v", typ, got, err)
			}
		case !patientData || len(pins) == 0:
			if !errors.Is(err, ErrNotThisPatient) {
				t.Errorf("%s cannot be limited to a patient, yet it was searched: %q, %v", typ, got, err)
			}
		default:
			pin := pins[len(pins)-1]
			want := url.Values{"code": {"x"}, pin: {l.pinValue(pin)}}
			if err != nil || got != limitBase+"/"+typ+"?"+want.Encode() {
				t.Errorf("%s: got %q, %v; want it limited through %s", typ, got, err, pin)
			}
			// The same server declaring none of them: refused, with the reason.
			declared := []string{"code", "performer", "author", "_id"}
			if pin == "_id" {
				declared = declared[:3]
			}
			l.cap = capabilityOf(map[string][]string{typ: declared})
			got, err = Request{Resource: typ}.url(limitBase, l)
			if !errors.Is(err, ErrNotThisPatient) || !strings.Contains(err.Error(), "declares no way to search it by patient") {
				t.Errorf("%s without a declared subject parameter: got %q, %v", typ, got, err)
			}
		}
	}
}

// On eCW's own CapabilityStatement: Claim (read only) and Provenance (by _id only) are refused,
// Coverage goes by patient, Patient by _id.
func TestLimitsOnECWsCapability(t *testing.T) {
	t.Parallel()
	l := limits{patient: "pat-1", cap: capabilityOf(ecwSearchParams)}
	for _, tc := range []struct{ typ, want string }{
		{"Claim", ""},
		{"ExplanationOfBenefit", ""},
		{"ImagingStudy", ""},
		{"Provenance", ""},
		{"Coverage", limitBase + "/Coverage?patient=pat-1"},
		{"Patient", limitBase + "/Patient?_id=pat-1"},
		{"Organization", limitBase + "/Organization"},
	} {
		got, err := Request{Resource: tc.typ}.url(limitBase, l)
		if tc.want == "" {
			if !errors.Is(err, ErrNotThisPatient) {
				t.Errorf("%s: got %q, %v; want it refused", tc.typ, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.typ, got, err, tc.want)
		}
	}
}

// What the model adds to a search cannot reach another patient: a patient, subject or other
// patient-naming parameter naming someone else, a chain from one, _has, named queries, and
// _revinclude on a search that is not limited to the patient are refused before anything is
// sent. The patient's own id, and plain parameters, pass.
func TestParametersCannotReachOtherPatients(t *testing.T) {
	t.Parallel()
	l := limits{patient: "pat-1", cap: testCapability()}
	for _, tc := range []struct {
		typ    string
		params url.Values
		ok     bool
	}{
		{"Observation", url.Values{"patient": {"pat-2"}}, false},
		{"Observation", url.Values{"patient": {"Patient/pat-2"}}, false},
		{"Observation", url.Values{"patient": {"pat-1,pat-2"}}, false},
		{"Observation", url.Values{"subject": {"Patient/pat-2"}}, false},
		{"Observation", url.Values{"subject": {"https://other.example/fhir/Patient/pat-2/_history/3"}}, false},
		{"Observation", url.Values{"subject:Patient": {"pat-2"}}, false},
		{"Observation", url.Values{"subject:Patient.name": {"Smith"}}, false},
		{"Observation", url.Values{"patient.identifier": {"MRN|123"}}, false},
		{"Coverage", url.Values{"beneficiary": {"Patient/pat-2"}}, false},
		{"Coverage", url.Values{"subscriber": {"Patient/pat-2"}}, false},
		{"Task", url.Values{"for": {"Patient/pat-2"}}, false},
		{"Patient", url.Values{"_id": {"pat-2"}}, false},
		{"Patient", url.Values{"link": {"Patient/pat-2"}}, false},
		{"Patient", url.Values{"_has:Observation:patient:code": {"1234-5"}}, false},
		{"Practitioner", url.Values{"_has:Observation:performer:patient": {"pat-2"}}, false},
		{"Organization", url.Values{"_revinclude": {"Encounter:service-provider"}}, false},
		{"Location", url.Values{"_revinclude:iterate": {"Encounter:location"}}, false},
		{"Observation", url.Values{"_query": {"everything"}}, false},
		{"Observation", url.Values{"_filter": {"patient eq pat-2"}}, false},

		{"Observation", url.Values{"patient": {"pat-1"}}, true},
		{"Observation", url.Values{"subject": {"Patient/pat-1"}}, true},
		{"Observation", url.Values{"performer": {"Practitioner/dr-1"}}, true},
		{"Observation", url.Values{"_id": {"obs-of-someone"}}, true}, // its answer is checked
		{"Encounter", url.Values{"_revinclude": {"Provenance:target"}}, true},
		{"Practitioner", url.Values{"name": {"Smith"}}, true},
		{"PractitionerRole", url.Values{"practitioner.name": {"Smith"}}, true},
		{"Appointment", url.Values{"actor": {"Practitioner/dr-1"}}, true},
	} {
		got, err := Request{Resource: tc.typ, Params: tc.params}.url(limitBase, l)
		if tc.ok != (err == nil) {
			t.Errorf("%s?%s: got %q, %v; want ok=%v", tc.typ, tc.params.Encode(), got, err, tc.ok)
			continue
		}
		if !tc.ok && !errors.Is(err, ErrNotThisPatient) {
			t.Errorf("%s?%s: %v is not ErrNotThisPatient", tc.typ, tc.params.Encode(), err)
		}
	}
}

// A limit the model gives itself names the patient or the search is refused: given the very
// parameter the practice limits the search through, another patient's bare id, a Group, a
// Practitioner or a list that adds someone else would replace the limit instead of narrowing it.
// The patient's own id passes, and goes out as healow writes it.
func TestTheLimitCannotBeReplaced(t *testing.T) {
	t.Parallel()
	// A server that limits these types only through their last subject parameter.
	l := limits{patient: "pat-1", cap: capabilityOf(map[string][]string{
		"Observation": {"subject", "code"}, "Coverage": {"beneficiary"}, "Task": {"subject"}, "Patient": {"_id", "name"},
	})}
	for _, tc := range []struct {
		typ    string
		params url.Values
		want   string // "" when refused
	}{
		{"Observation", url.Values{"subject": {"pat-2"}}, ""},
		{"Observation", url.Values{"subject": {"Group/g1"}}, ""},
		{"Observation", url.Values{"subject": {"Patient/pat-1,pat-2"}}, ""},
		{"Observation", url.Values{"subject": {"Patient/pat-1", "Patient/pat-2"}}, ""},
		{"Coverage", url.Values{"beneficiary": {"pat-2"}}, ""},
		{"Task", url.Values{"subject": {"Practitioner/dr-1"}}, ""},
		{"Patient", url.Values{"_id": {"pat-1,pat-2"}}, ""},

		{"Observation", url.Values{"subject": {"pat-1"}}, "/Observation?subject=Patient%2Fpat-1"},
		{"Observation", url.Values{"subject": {"Patient/pat-1"}, "code": {"x"}}, "/Observation?code=x&subject=Patient%2Fpat-1"},
		{"Observation", url.Values{"subject:missing": {"true"}}, "/Observation?subject=Patient%2Fpat-1&subject%3Amissing=true"},
		{"Coverage", url.Values{"beneficiary": {"Patient/pat-1"}}, "/Coverage?beneficiary=Patient%2Fpat-1"},
		{"Patient", url.Values{"_id": {"pat-1"}, "name": {"x"}}, "/Patient?_id=pat-1&name=x"},
	} {
		got, err := Request{Resource: tc.typ, Params: tc.params}.url(limitBase, l)
		if tc.want == "" {
			if !errors.Is(err, ErrNotThisPatient) {
				t.Errorf("%s?%s: got %q, %v; want it refused", tc.typ, tc.params.Encode(), got, err)
			}
			continue
		}
		if err != nil || got != limitBase+tc.want {
			t.Errorf("%s?%s: got %q, %v; want %q", tc.typ, tc.params.Encode(), got, err, tc.want)
		}
	}
}

// A paging link is followed when it stays with the patient: a search of patient data must carry
// its limit naming the patient; opaque links and shared types pass; reads and other paths do not.
func TestPagingLinksStayWithThePatient(t *testing.T) {
	t.Parallel()
	l := limits{patient: "pat-1", cap: testCapability()}
	for _, tc := range []struct {
		link string
		ok   bool
	}{
		{"/Observation?patient=pat-1&_count=20&_page=2", true},
		{"/Observation?subject=Patient%2Fpat-1&_page=2", true},
		{"?_getpages=abc&_getpagesoffset=20", true},
		{"/Practitioner?name=Smith&_page=2", true},
		{"/Observation?patient=pat-2&_page=2", false},
		{"/Observation?_page=2", false},
		{"/Claim?_count=100", false},
		{"/Coverage?patient=pat-1&beneficiary=Patient%2Fpat-2", false},
		{"/Practitioner?_has:Observation:performer:patient=pat-2", false},
		{"/Binary?_count=10", false},
		{"/Bundle?_count=10", false},
		{"/Patient/pat-2", false},
		{"/Patient/pat-2/$everything", false},
		{"/Observation/_search?patient=pat-1", false},
		{"/Observation?subject=pat-2&_page=2", false},
		{"/Observation?subject=Group%2Fg1&_page=2", false},
		{"?_getpages=abc&patient=pat-2", false},
	} {
		req := Request{Next: limitBase + tc.link}
		got, err := req.url(limitBase, l)
		if tc.ok != (err == nil) {
			t.Errorf("%s: got %q, %v; want ok=%v", tc.link, got, err, tc.ok)
		}
	}
	// The server's own links are followed when they drop the patient, never when they name
	// another.
	own := limits{patient: "pat-1", cap: testCapability(), paged: func(string) bool { return true }}
	for _, tc := range []struct {
		link string
		ok   bool
	}{
		{"/Observation?page=2", true},
		{"/Observation/_search?page=2", true},
		{"?_getpages=abc", true},
		{"/Observation?patient=pat-1&page=2", true},
		{"/Observation?patient=pat-2&page=2", false},
		{"/Observation?subject=pat-2&page=2", false},
		{"?_getpages=abc&patient=Patient%2Fpat-2", false},
		{"/Observation?_has:Observation:patient:code=1", false},
	} {
		got, err := Request{Next: limitBase + tc.link}.url(limitBase, own)
		if tc.ok != (err == nil) {
			t.Errorf("the server's own %s: got %q, %v; want ok=%v", tc.link, got, err, tc.ok)
		}
	}
}

// Reads by id: another patient's Patient is refused before it is asked for; a Binary (or an
// attachment url) only when one of the patient's records held it.
func TestReadsStayWithThePatient(t *testing.T) {
	t.Parallel()
	known := []string{limitBase + "/Binary/bin-1"}
	l := limits{patient: "pat-1", known: func(u string) bool { return slices.Contains(known, u) }}
	for _, tc := range []struct {
		req  Request
		want error
	}{
		{Request{Resource: "Patient", ID: "pat-1"}, nil},
		{Request{Resource: "Patient", ID: "pat-2"}, ErrNotThisPatient},
		{Request{Resource: "Binary", ID: "bin-1"}, nil},
		{Request{Resource: "Binary", ID: "bin-2"}, ErrUnknownAttachment},
		{Request{Attachment: limitBase + "/Binary/bin-1"}, nil},
		{Request{Attachment: limitBase + "/Binary/bin-2"}, ErrUnknownAttachment},
		{Request{Attachment: "https://evil.example/Binary/bin-1"}, ErrOutsideBase},
		{Request{Resource: "Observation", ID: "obs-of-anyone"}, nil}, // its answer is checked
		{Request{Resource: "Binary"}, ErrNotThisPatient},
	} {
		_, err := tc.req.url(limitBase, l)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%+v: err = %v, want %v", tc.req, err, tc.want)
		}
	}
}

package practice

import (
	"bytes"
	"encoding/json"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/healow-mcp/healow-mcp/internal/jsonscan"
	"github.com/healow-mcp/healow-mcp/practice/fhir"
)

// fuzzBases are practice bases as eCW and the sandbox give them.
var fuzzBases = []string{"https://fhir4.healow.com/fhir/r4/FEIGCD", "https://127.0.0.1:8443/fhir/r4/AACJCD"}

// landsInside fails unless got, as any server could read it, stays inside base: same scheme,
// host and port, no userinfo, and a path under base's however it is read (escaped or decoded,
// backslashes as slashes, ";params" dropped, dot segments resolved).
func landsInside(t *testing.T, base, got string) {
	t.Helper()
	b, _ := url.Parse(base)
	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("%q was accepted but does not parse: %v", got, err)
	}
	if u.Scheme != b.Scheme || u.Host != b.Host || u.User != nil || u.Fragment != "" || strings.Contains(got, "#") {
		t.Fatalf("%q leaves %s", got, base)
	}
	for _, p := range []string{u.EscapedPath(), u.Path} {
		segs := strings.Split(strings.ReplaceAll(p, `\`, "/"), "/")
		for i, s := range segs {
			segs[i], _, _ = strings.Cut(s, ";")
		}
		clean := path.Clean(strings.Join(segs, "/"))
		if clean != b.Path && !strings.HasPrefix(clean, b.Path+"/") {
			t.Fatalf("%q is read as %s, outside %s", got, clean, base)
		}
	}
}

// A request never becomes a URL outside the base, whatever the resource, id, parameter or next
// link; a read is exactly {base}/{type}/{id}, a search's query decodes to exactly the parameters
// given and the patient's limit, so no value can add a parameter or a path, and no search of a
// type that holds patient data goes out without the limit.
func FuzzRequestURL(f *testing.F) {
	f.Add("Observation", "", "category", "laboratory", "", true, "pat-1")
	f.Add("Patient", "a-1.b", "", "", "", false, "")
	f.Add("Condition", "", "code", "a&_id=b#c/../x?y", "", true, "p/../q")
	f.Add("", "", "", "", "https://fhir4.healow.com/fhir/r4/FEIGCD/Observation?_page=2", false, "")
	f.Add("", "", "", "", "https://fhir4.healow.com/fhir/r4/FEIGCD/%2e%2e/AACJCD/Observation", false, "")
	f.Add("", "", "", "", "https://fhir4.healow.com/fhir/r4/FEIGCD/..;/AACJCD", false, "")
	f.Add("Binary", "..", "", "", "", false, "")
	f.Add("Observation", "", "subject:Patient.name", "x\r\nHost: evil", "", true, "")
	f.Add("Claim", "", "", "", "", true, "pat-1")
	f.Add("Coverage", "", "patient", "other", "", true, "pat-1")
	f.Fuzz(func(t *testing.T, resource, id, name, value, next string, declared bool, patient string) {
		if patient == "" {
			patient = "pat-1"
		}
		for _, base := range fuzzBases {
			req := Request{Resource: resource, ID: id, Next: next}
			if name != "" {
				req.Params = url.Values{name: {value}}
			}
			l := limits{patient: patient, known: func(string) bool { return true }}
			if declared {
				l.cap = testCapability()
			}
			got, err := req.url(base, l)
			if err != nil {
				continue
			}
			landsInside(t, base, got)
			switch {
			case next != "":
			case id != "":
				if got != base+"/"+resource+"/"+id {
					t.Fatalf("read %s/%s built %q", resource, id, got)
				}
				if resource == "Patient" && id != patient {
					t.Fatalf("read another patient, %s", got)
				}
			default:
				u, _ := url.Parse(got)
				if u.Path != strings.TrimPrefix(base, "https://"+u.Host)+"/"+resource {
					t.Fatalf("search %s built the path %q", resource, u.Path)
				}
				want := url.Values{}
				if name != "" {
					want[name] = []string{value}
				}
				pin, _ := l.cap.pin(resource)
				if fhir.HoldsPatientData(resource) && pin == "" {
					t.Fatalf("a search of %s went out without the patient: %s", resource, got)
				}
				// The limit is written by healow whatever the model gave for it: a value that names
				// the patient (or nothing) is replaced, any other was refused above.
				if pin != "" {
					want.Set(pin, l.pinValue(pin))
				}
				if q := u.Query(); q.Encode() != want.Encode() {
					t.Fatalf("search built the query %v from %v", q, want)
				}
			}
		}
	})
}

// A link InsideBase accepts stays inside the base however a server reads it.
func FuzzInsideBase(f *testing.F) {
	for _, s := range []string{
		"https://fhir4.healow.com/fhir/r4/FEIGCD/Observation?_page=2&_count=20",
		"https://fhir4.healow.com/fhir/r4/FEIGCDX/Observation",
		"https://fhir4.healow.com/fhir/r4/FEIGCD/x%2F..%2F..%2FAACJCD",
		"https://fhir4.healow.com/fhir/r4/FEIGCD/..%5C..%5CAACJCD",
		"https://evil.example/fhir/r4/FEIGCD/Observation",
		"HTTPS://FHIR4.HEALOW.COM/fhir/r4/FEIGCD/Patient",
		"https://fhir4.healow.com:443/fhir/r4/FEIGCD/Patient",
		"https://u:p@fhir4.healow.com/fhir/r4/FEIGCD/Patient",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		for _, base := range fuzzBases {
			for _, l := range []string{link, base + "/" + link} {
				if got, err := InsideBase(base, l); err == nil {
					landsInside(t, base, got)
				}
			}
		}
	})
}

// An attachment url, relative or absolute, resolves inside the base or not at all.
func FuzzResolveAttachment(f *testing.F) {
	for _, s := range []string{"Binary/bin-1", "/fhir/r4/FEIGCD/Binary/x", "../AACJCD/Binary/x", "//evil.example/Binary/x",
		"Binary/%2e%2e/%2e%2e/AACJCD/x", "https://fhir4.healow.com/fhir/r4/FEIGCD/Binary/x?_format=json", "Binary\\..\\..\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		for _, base := range fuzzBases {
			if got, err := ResolveAttachment(base, ref); err == nil {
				landsInside(t, base, got)
				if id, ok := BinaryID(base, got); ok && !IsID(id) {
					t.Fatalf("BinaryID(%q) = %q", got, id)
				}
			}
		}
	})
}

var tokenLike = regexp.MustCompile(`^[A-Za-z0-9._~+/=-]{8,200}$`)

// An OperationOutcome, however malformed, renders as one bounded line without control
// characters, and never with the request's token in it, whether the practice echoes it as
// "Bearer <token>" or alone.
func FuzzDescribeOutcome(f *testing.F) {
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no such\nthing"}]}`), "", "eyJhbGciOi.J9.sig")
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"text":"scope"}}]}`), "Authorization:", "access-0123456789")
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":"not a list"}`), "x", "tok-tok-tok")
	f.Add([]byte(`<html>Bearer abc</html>`), "", "abcdefgh")
	f.Fuzz(func(t *testing.T, body []byte, around, token string) {
		check := func(got string, secret bool) {
			t.Helper()
			if n := utf8.RuneCountInString(got); n > maxOutcome+1 {
				t.Fatalf("%d characters rendered", n)
			}
			if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("a control character in %q", got)
			}
			if secret && tokenLike.MatchString(token) && strings.Contains(got, token) {
				t.Fatalf("the token is in %q", got)
			}
		}
		check(describeOutcome(body, token), true)
		echo, _ := json.Marshal(around + " Authorization: Bearer " + token + " " + around)
		check(describeOutcome([]byte(`{"resourceType":"OperationOutcome","issue":[{"diagnostics":`+string(echo)+`}]}`)), !strings.Contains(around, token))
		check(describeOutcome(body), false)
	})
}

// Whatever a practice answers, the check never panics and never lets through a Bundle entry
// that names another patient as encoding/json reads the result (case-insensitively, last key
// winning); what it keeps of valid JSON stays valid.
func FuzzScreen(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","id":"1","subject":{"reference":"Patient/pat-2"}}},{"resource":{"resourceType":"Observation","id":"2","subject":{"reference":"Patient/pat-1"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","subject":{"reference":"Patient/pat-1"}},"resource":{"resourceType":"Observation","subject":{"reference":"Patient/pat-2"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","subject":{"reference":"Patient/pat-1"},"subject":{"reference":"Patient/pat-2"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","subj\u0065ct":{"reference":"Patient/pat-2"}}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"r\u0065source":{"resourceType":"Patient","id":"pat-2"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[],"entry":[{"resource":{"resourceType":"Patient","id":"pat-2"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Encounter","id":"e","subject":{"reference":"https://x/Patient/pat-2/_history/1"}},"search":{"mode":"include"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		sc, err := screen(Request{Resource: "Observation"}, "https://x/fhir", "pat-1", body)
		if err != nil || !json.Valid(body) {
			return
		}
		if !json.Valid(sc.body) {
			t.Fatalf("valid JSON became invalid: %s", sc.body)
		}
		var b struct {
			ResourceType string
			Entry        []struct {
				Resource struct {
					ResourceType string
					ID           string
					Subject      struct{ Reference string }
				}
			}
		}
		if json.Unmarshal(sc.body, &b) != nil || b.ResourceType != "Bundle" {
			return // what reads pages refuses anything else
		}
		for _, e := range b.Entry {
			r := e.Resource
			id, isPatient := patientOf(r.Subject.Reference, false)
			if r.ResourceType == "Observation" && isPatient && id != "pat-1" || r.ResourceType == "Patient" && r.ID != "pat-1" {
				t.Fatalf("another patient's record was let through: %+v in %s", r, sc.body)
			}
		}
	})
}

// The scanner that checks answers splits any valid JSON object into the members encoding/json
// sees, keys compared as encoding/json compares them.
func FuzzFieldsOf(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":"x\"}y","c":{"d":[1,{"e":"]"}]},"f":null}`, `{"a\u0062":"\\\\","K":true}`,
		`{ "entry" : [ {"resource":{}} , 2 ] , "x":-1.5e3 }`, `{"ſ":1,"S":2}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var want map[string]json.RawMessage
		if json.Unmarshal(body, &want) != nil || want == nil {
			return
		}
		got, err := fieldsOf(body)
		if err != nil {
			if _, twice := err.(twiceError); twice {
				return // encoding/json keeps the last of two keys; the check refuses both
			}
			t.Fatalf("fieldsOf(%s): %v", body, err)
		}
		if len(got) != len(want) {
			t.Fatalf("fieldsOf(%s) = %d members, encoding/json %d", body, len(got), len(want))
		}
		for k, v := range want {
			g, ok := got[jsonscan.Fold(k)]
			var a, b bytes.Buffer
			json.Compact(&a, v)
			json.Compact(&b, g)
			if !ok || a.String() != b.String() {
				t.Fatalf("member %q: %s, encoding/json %s", k, g, v)
			}
		}
	})
}

package directory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/healow-mcp/healow-mcp/practice/directory"
)

// all lists every practice an index holds, by searching each one's code.
func all(t *testing.T, idx *directory.Index, codes ...string) map[string]directory.Practice {
	t.Helper()
	out := map[string]directory.Practice{}
	for _, c := range codes {
		if p, ok := idx.Code(c); ok {
			out[c] = p
		}
	}
	return out
}

// A directory links a practice's Endpoint and Organization either way, in any order, by relative,
// absolute or urn:uuid references; every active https Endpoint is a practice with its
// organization's name and address, and nothing else is.
func TestParseLinksEitherWay(t *testing.T) {
	t.Parallel()
	doc := `{"resourceType":"Bundle","type":"collection","link":[{"relation":"self","url":"x"}],"entry":[
	 {"resource":{"resourceType":"Endpoint","id":"e1","status":"active","address":"https://fhir4.healow.com/fhir/r4/AAAAAA/"}},
	 {"resource":{"resourceType":"Organization","id":"o1","name":"Listed  By\u0000 Organization\u202e","address":[{"line":["1 Main St","Suite 2"],"city":"Springfield","state":"IL","postalCode":"62701"}],
	   "endpoint":[{"reference":"Endpoint/e1"}]}},
	 {"fullUrl":"https://dir.example/fhir/Organization/o2","resource":{"resourceType":"Organization","id":"o2","name":"Managed Practice","address":[{"city":"Madison","state":"Wisconsin"}]}},
	 {"resource":{"resourceType":"Endpoint","id":"e2","address":"https://fhir4.healow.com/fhir/r4/BBBBBB","managingOrganization":{"reference":"https://dir.example/fhir/Organization/o2"}}},
	 {"fullUrl":"urn:uuid:7f0c","resource":{"resourceType":"Organization","name":"By Uuid"}},
	 {"resource":{"resourceType":"Endpoint","id":"e3","status":"active","address":"https://fhir4.healow.com/fhir/r4/CCCCCC","managingOrganization":{"reference":"urn:uuid:7f0c"}}},
	 {"resource":{"resourceType":"Endpoint","id":"e4","status":"off","address":"https://fhir4.healow.com/fhir/r4/DDDDDD"}},
	 {"resource":{"resourceType":"Endpoint","id":"e5","address":"http://fhir4.healow.com/fhir/r4/EEEEEE","name":"Plain HTTP"}},
	 {"resource":{"resourceType":"Endpoint","id":"e6","address":"https://fhir4.healow.com/fhir/r4/FFFFFF","name":"No Organization"}},
	 {"resource":{"resourceType":"Organization","id":"o7","name":"No Endpoint"}},
	 {"resource":{"resourceType":"Endpoint","id":"e8","address":"https://fhir4.healow.com/fhir/r4/AAAAAA","name":"Duplicate"}},
	 {"resource":{"resourceType":"Endpoint","id":"e9","name":5,"address":"https://fhir4.healow.com/fhir/r4/GGGGGG"}},
	 {"resource":{"resourceType":"Endpoint","id":"e10","address":"https://user:pw@evil.example/fhir/r4/HHHHHH"}},
	 {"resource":{"resourceType":"Location","id":"l1","name":"Ignored","address":{"city":"Nowhere"}}}
	]}`
	idx, err := directory.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := all(t, idx, "AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE", "FFFFFF", "GGGGGG", "HHHHHH")
	want := map[string]directory.Practice{
		"AAAAAA": {Name: "Listed By Organization", Line: "1 Main St, Suite 2", City: "Springfield", State: "IL", PostalCode: "62701", Code: "AAAAAA", BaseURL: "https://fhir4.healow.com/fhir/r4/AAAAAA"},
		"BBBBBB": {Name: "Managed Practice", City: "Madison", State: "Wisconsin", Code: "BBBBBB", BaseURL: "https://fhir4.healow.com/fhir/r4/BBBBBB"},
		"CCCCCC": {Name: "By Uuid", Code: "CCCCCC", BaseURL: "https://fhir4.healow.com/fhir/r4/CCCCCC"},
		"FFFFFF": {Name: "No Organization", Code: "FFFFFF", BaseURL: "https://fhir4.healow.com/fhir/r4/FFFFFF"},
	}
	if len(got) != len(want) || idx.Len() != len(want) {
		t.Fatalf("%d practices (%d indexed), want %d: %+v", len(got), idx.Len(), len(want), got)
	}
	for c, w := range want {
		if got[c] != w {
			t.Errorf("%s:\n got %+v\nwant %+v", c, got[c], w)
		}
	}
	// e5 (http), e9 (a name that is a number), e10 (a user in the URL); e4 is off, not malformed.
	if idx.Skipped != 3 {
		t.Errorf("skipped %d entries, want 3", idx.Skipped)
	}
	if a := got["AAAAAA"].Address(); a != "1 Main St, Suite 2, Springfield, IL 62701" {
		t.Errorf("address %q", a)
	}
}

// A document that is not a Bundle, or is cut short, is an error, never a partial index.
func TestParseRefusesWhatIsNotADirectory(t *testing.T) {
	t.Parallel()
	good := string(genDirectory(4 << 10))
	for name, doc := range map[string]string{
		"empty":          ``,
		"an array":       `[]`,
		"a patient":      `{"resourceType":"Patient","entry":[]}`,
		"no type":        `{"entry":[]}`,
		"entry object":   `{"resourceType":"Bundle","entry":{}}`,
		"cut short":      good[:len(good)/2],
		"trailing comma": `{"resourceType":"Bundle","entry":[],}`,
		"html":           `<html><body>Service Unavailable</body></html>`,
	} {
		if idx, err := directory.Parse(strings.NewReader(doc)); !errors.Is(err, directory.ErrMalformed) {
			t.Errorf("%s: index %v, error %v", name, idx, err)
		}
	}
	idx, err := directory.Parse(strings.NewReader(good))
	if err != nil || idx.Len() < 3 {
		t.Fatalf("the generated directory: %v, %d practices", err, idx.Len())
	}
}

// Names and places are cut to a length a row can show, whatever the directory holds.
func TestParseBoundsText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Very Long Name ", 1000)
	doc := `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Endpoint","name":"` + long + `","address":"https://fhir4.healow.com/fhir/r4/AAAAAA"}}]}`
	idx, err := directory.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := idx.Code("aaaaaa")
	if n := len([]rune(p.Name)); !ok || n > 120 || n < 110 || !strings.HasPrefix(p.Name, "Very Long Name Very") {
		t.Fatalf("%v %d runes: %.200q", ok, len([]rune(p.Name)), p.Name)
	}
}

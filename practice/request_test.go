package practice

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRequestURL(t *testing.T) {
	t.Parallel()
	const base = "https://fhir4.healow.com/fhir/r4/FEIGCD"
	for _, tc := range []struct {
		name    string
		req     Request
		want    string
		wantErr string
	}{
		{"read by id", Request{Resource: "Observation", ID: "a-1.b"}, base + "/Observation/a-1.b", ""},
		{"read", Request{Resource: "Patient", ID: "p1"}, base + "/Patient/p1", ""},
		{"search adds the patient", Request{Resource: "Observation", Params: url.Values{"category": {"laboratory"}}},
			base + "/Observation?category=laboratory&patient=p1", ""},
		{"search keeps the patient given", Request{Resource: "Observation", Params: url.Values{"subject": {"Patient/p1"}}},
			base + "/Observation?patient=p1&subject=Patient%2Fp1", ""},
		{"repeated keys", Request{Resource: "Encounter", Params: url.Values{"date": {"ge2024-01-01", "le2024-12-31"}}},
			base + "/Encounter?date=ge2024-01-01&date=le2024-12-31&patient=p1", ""},
		{"values cannot escape the query", Request{Resource: "Condition", Params: url.Values{"code": {"a&_id=b#c"}}},
			base + "/Condition?code=a%26_id%3Db%23c&patient=p1", ""},
		{"no patient on a type without one", Request{Resource: "Practitioner"}, base + "/Practitioner", ""},
		{"next inside", Request{Next: base + "/Observation?patient=p1&_page=2"}, base + "/Observation?patient=p1&_page=2", ""},
		{"unknown type", Request{Resource: "Patients"}, "", "resource: \"Patients\" is not a FHIR R4 resource type"},
		{"path in type", Request{Resource: "../Patient"}, "", "resource:"},
		{"traversal in id", Request{Resource: "Patient", ID: "../x"}, "", "id:"},
		{"slash in id", Request{Resource: "Patient", ID: "a%2Fb"}, "", "id:"},
		{"long id", Request{Resource: "Patient", ID: strings.Repeat("a", 65)}, "", "id:"},
		{"read with params", Request{Resource: "Patient", ID: "a", Params: url.Values{"x": {"1"}}}, "", "params:"},
		{"bad param name", Request{Resource: "Patient", Params: url.Values{"a b": {"1"}}}, "", "params:"},
		{"CRLF in value", Request{Resource: "Patient", Params: url.Values{"name": {"a\r\nb"}}}, "", "control character"},
		{"next and resource", Request{Next: base + "/Observation", Resource: "Patient"}, "", "next:"},
		{"next elsewhere", Request{Next: "https://evil.example/fhir/r4/FEIGCD/Observation"}, "", "outside the practice's FHIR base"},
		{"next sibling practice", Request{Next: "https://fhir4.healow.com/fhir/r4/FEIGCDX/Observation"}, "", "outside"},
		{"next with userinfo", Request{Next: "https://u@fhir4.healow.com/fhir/r4/FEIGCD/Observation"}, "", "outside"},
		{"next other port", Request{Next: "https://fhir4.healow.com:444/fhir/r4/FEIGCD/Observation"}, "", "outside"},
		{"next climbs encoded", Request{Next: base + "/%2e%2e/AACJCD/Observation"}, "", "outside"},
		{"next climbs through an encoded slash", Request{Next: base + "/Observation%2F..%2F..%2FAACJCD"}, "", "outside"},
		{"next climbs Tomcat's way", Request{Next: base + "/..;x/AACJCD/Observation"}, "", "outside"},
		{"next climbs IIS's way", Request{Next: base + "/..%5C..%5CAACJCD/Observation"}, "", "outside"},
		{"next with a NUL", Request{Next: base + "/Observation%00/x"}, "", "outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.req.url(base, limits{patient: "p1", cap: testCapability()})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestInsideBaseSentinel(t *testing.T) {
	t.Parallel()
	_, err := InsideBase("https://a.example/fhir", "https://b.example/fhir/Patient")
	if !errors.Is(err, ErrOutsideBase) {
		t.Fatalf("err = %v", err)
	}
}

func TestDescribeOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"no such\nthing"}]}`, "error not-found: no such thing"},
		{`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden","details":{"text":"scope"}}]}`, "error forbidden: scope"},
		{`<html>Bearer abc</html>`, ""},
		{`{"resourceType":"Patient"}`, ""},
	} {
		if got := describeOutcome([]byte(tc.body)); got != tc.want {
			t.Errorf("describeOutcome(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

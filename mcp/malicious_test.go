package mcp_test

import (
	"strings"
	"testing"
)

// Hostile tool input, class by class, each with the refusal it meets. Everything here is refused
// before a request reaches the practice, and every refusal names the field it is about (see
// TestBadInputNeverReachesThePractice for malformed but harmless input such as bad dates).
func TestMaliciousInputIsRefusedBeforeThePractice(t *testing.T) {
	t.Parallel()
	env, cs, p := connected(t)
	other := env.Sandbox.Practices()[1]
	base := p.BaseURL
	long := strings.Repeat("a", 100<<10)
	for _, tc := range []struct {
		class, tool string
		args        map[string]any
		want        string
	}{
		{"traversal", "fhir_get", map[string]any{"resource": "Patient", "id": "../Observation/x"}, "id:"},
		{"traversal", "fhir_get", map[string]any{"resource": "../Patient", "id": "x"}, "resource:"},
		{"traversal", "get_practitioner", map[string]any{"id": "Practitioner/../Patient/x"}, "id:"},
		{"traversal", "get_binary", map[string]any{"id": "Binary/../../x"}, "id:"},
		{"traversal", "get_binary", map[string]any{"url": "Binary/../../" + other.Code + "/Binary/x"}, "outside the practice's FHIR base"},
		{"traversal", "fhir_search", map[string]any{"next": base + "/../" + other.Code + "/Observation"}, "outside the practice's FHIR base"},
		{"traversal", "fhir_search", map[string]any{"next": base + "/Observation/..;/../" + other.Code + "/Observation"}, "outside"},
		{"traversal", "search_observation", map[string]any{"next": base + "/Observation/..;/../" + other.Code + "/Observation"}, "is not a next cursor of this tool"},
		{"traversal", "get_binary", map[string]any{"url": `Binary\..\..\` + other.Code + `\Binary\x`}, "outside"},

		{"%2F and ..", "fhir_get", map[string]any{"resource": "Patient", "id": "a%2Fb"}, "id:"},
		{"%2F and ..", "fhir_get", map[string]any{"resource": "Patient%2F..", "id": "x"}, "resource:"},
		{"%2F and ..", "get_document_reference", map[string]any{"id": "..%2F..%2FPatient%2Fx"}, "id:"},
		{"%2F and ..", "get_binary", map[string]any{"url": "Binary%2F..%2F..%2F" + other.Code + "%2FBinary%2Fx"}, "outside"},
		{"%2F and ..", "fhir_search", map[string]any{"next": base + "/%2e%2e/" + other.Code + "/Observation"}, "outside"},
		{"%2F and ..", "fhir_search", map[string]any{"next": base + "/Observation%2F..%2F..%2F" + other.Code}, "outside"},

		{"CRLF", "fhir_get", map[string]any{"resource": "Patient", "id": "x\r\nHost: evil.example"}, "id:"},
		{"CRLF", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"code": "a\r\nX-Evil: 1"}}, "control character"},
		{"CRLF", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"code\r\nX-Evil: 1": "a"}}, "params:"},
		{"CRLF", "fhir_search", map[string]any{"next": base + "/Observation?x=1\r\nHost: evil.example"}, "next:"},
		{"CRLF", "search_observation", map[string]any{"code": "4548-4\r\nX-Evil: 1"}, "code:"},
		{"CRLF", "connect_practice", map[string]any{"name": "Evil\r\nPractice", "fhir_base_url": base}, "name: only printable characters"},

		{"NUL", "fhir_get", map[string]any{"resource": "Patient", "id": p.PatientID + "\x00"}, "id:"},
		{"NUL", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"code": "a\x00b"}}, "control character"},
		{"NUL", "get_binary", map[string]any{"url": "Binary/x\x00y"}, "url:"},
		{"NUL", "get_binary", map[string]any{"url": "Binary/x%00y"}, "outside"},
		{"NUL", "complete_oauth", map[string]any{"code": "abc\x00def", "state": "s"}, "not an authorization code"},

		{"look-alike", "fhir_get", map[string]any{"resource": "Pаtient", "id": "x"}, "resource:"},    // Cyrillic а
		{"look-alike", "fhir_get", map[string]any{"resource": "Patient", "id": "рat-1"}, "id:"},      // Cyrillic р
		{"look-alike", "get_binary", map[string]any{"id": "bin․․x"}, "id:"},                          // one-dot leaders
		{"look-alike", "get_binary", map[string]any{"url": "Binary／．．／．．／" + other.Code}, "outside"}, // fullwidth
		{"look-alike", "fhir_search", map[string]any{"next": base + "/Observation∕..∕x"}, "outside"},
		{"look-alike", "get_patient", map[string]any{"practice": strings.Replace(p.Name, "i", "і", 1)}, "unknown practice"},

		{"length", "fhir_get", map[string]any{"resource": "Patient", "id": long}, "id:"},
		{"length", "fhir_get", map[string]any{"resource": long, "id": "x"}, "resource:"},
		{"length", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"code": long}}, "longer than 1024"},
		{"length", "fhir_search", map[string]any{"resource": "Observation", "params": manyParams(500)}, "more than the 8192 a practice takes"},
		{"length", "fhir_search", map[string]any{"next": base + "/Observation?x=" + long}, "longer than any paging link"},
		{"length", "get_binary", map[string]any{"url": "Binary/" + long}, "longer than any attachment url"},
		{"length", "search_observation", map[string]any{"code": long}, "longer than 1024"},
		{"length", "complete_oauth", map[string]any{"code": long}, "longer than 4096 bytes"},
		{"length", "connect_practice", map[string]any{"name": long, "fhir_base_url": base}, "name: at most 80 characters"},
		{"length", "get_patient", map[string]any{"practice": long}, "unknown practice"},

		{"plain http", "connect_practice", map[string]any{"name": "Plain", "fhir_base_url": strings.Replace(base, "https:", "http:", 1)}, "tokens and the client secret would travel in clear text"},

		{"unknown type", "fhir_get", map[string]any{"resource": "Patients", "id": "x"}, "resource:"},
		{"unknown type", "fhir_get", map[string]any{"resource": "patient", "id": "x"}, "resource:"},
		{"unknown type", "fhir_get", map[string]any{"resource": "", "id": "x"}, "resource:"},
		{"unknown type", "fhir_search", map[string]any{"resource": "metadata"}, "resource:"},
		{"unknown type", "fhir_search", map[string]any{"resource": "Binary/../Patient"}, "resource:"},
		{"unknown type", "fhir_search", map[string]any{"resource": "$export"}, "resource:"},

		{"another patient", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"patient": other.PatientID}}, "params.patient: " + `"` + other.PatientID + `" is not the patient who consented`},
		{"another patient", "fhir_search", map[string]any{"resource": "Condition", "params": map[string]any{"subject": "Patient/" + other.PatientID}}, "params.subject:"},
		{"another patient", "fhir_search", map[string]any{"resource": "Condition", "params": map[string]any{"subject:Patient": other.PatientID}}, "params.subject:Patient:"},
		{"another patient", "fhir_search", map[string]any{"resource": "Encounter", "params": map[string]any{"patient": p.PatientID + "," + other.PatientID}}, "params.patient:"},
		{"another patient", "fhir_search", map[string]any{"resource": "Patient", "params": map[string]any{"_id": other.PatientID}}, "params._id:"},
		{"another patient", "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"patient": other.BaseURL + "/Patient/" + other.PatientID}}, "params.patient:"},
	} {
		_, text, isErr := callFull(t, cs, tc.tool, tc.args)
		if !isErr || !strings.Contains(text, tc.want) {
			t.Errorf("%s: %s(%.80v): %v %.300q, want a refusal saying %q", tc.class, tc.tool, tc.args, isErr, text, tc.want)
		}
	}
	if n := env.Sandbox.Stats().FHIRRequests; n != 0 {
		t.Fatalf("%d requests reached the practice for refused input", n)
	}

	// Another patient's Patient is not even asked for; nothing about them comes back.
	for _, id := range []string{other.PatientID, "Patient/" + other.PatientID} {
		_, text, isErr := callFull(t, cs, "fhir_get", map[string]any{"resource": "Patient", "id": strings.TrimPrefix(id, "Patient/")})
		if !isErr || !strings.Contains(text, "is not the patient who consented") || strings.Contains(text, other.PatientName) {
			t.Fatalf("another patient's record: %v %q", isErr, text)
		}
	}
	if n := env.Sandbox.Stats().FHIRRequests; n != 0 {
		t.Fatalf("%d requests reached the practice for another patient's record", n)
	}
	// The patient's own id, named, is fine.
	var own struct{ Total int }
	callOK(t, cs, "fhir_search", map[string]any{"resource": "Observation", "params": map[string]any{"patient": p.PatientID, "_count": "1"}}, &own)
	if own.Total == 0 {
		t.Fatal("the patient's own id named in a search found nothing")
	}
}

func manyParams(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m["code"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26)] = "http://loinc.org|4548-4"
	}
	return m
}

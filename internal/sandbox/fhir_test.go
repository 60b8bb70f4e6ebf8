package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestSmartConfigurationLayout(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	get := func(u string) (int, []byte) {
		status, body, _ := fhirGet(t, s, u, "", "")
		return status, body
	}
	if status, _ := get(s.URL() + "/.well-known/smart-configuration"); status != http.StatusBadRequest {
		t.Errorf("host root answered %d, want 400", status)
	}
	if status, _ := get(s.URL() + "/fhir/r4/ZZZZZZ/.well-known/smart-configuration"); status != http.StatusNotFound {
		t.Errorf("unknown code answered %d, want 404", status)
	}
	status, body := get(p.BaseURL + "/.well-known/smart-configuration")
	if status != http.StatusOK {
		t.Fatalf("practice smart-configuration: %d", status)
	}
	var cfg map[string]any
	json.Unmarshal(body, &cfg)
	for _, absent := range []string{"revocation_endpoint", "introspection_endpoint", "management_endpoint"} {
		if _, ok := cfg[absent]; ok {
			t.Errorf("%s is advertised; eCW has none", absent)
		}
	}
	list := func(key string) []string {
		var out []string
		for _, v := range cfg[key].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if !slices.Equal(list("code_challenge_methods_supported"), []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", cfg["code_challenge_methods_supported"])
	}
	caps := list("capabilities")
	for _, c := range []string{"permission-v2", "permission-v1", "launch-standalone", "client-confidential-symmetric",
		"context-standalone-patient", "permission-offline", "sso-openid-connect"} {
		if !slices.Contains(caps, c) {
			t.Errorf("capability %s missing", c)
		}
	}
	scopes := list("scopes_supported")
	want := []string{
		"openid", "fhirUser", "profile", "offline_access", "launch", "launch/patient",
		"patient/Binary.r", "patient/Provenance.read", "patient/Observation.rs", "patient/Condition.r",
		"patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"patient/Observation.read?category=http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh",
		"patient/Observation.r?category=http://terminology.hl7.org//CodeSystem-observation-category|social-history",
		"patient/Condition.rs?category=http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern",
		"patient/Condition.read?category=http://terminology.hl7.org/CodeSystem/condition-category|encounter-diagnosis",
	}
	for _, w := range want {
		if !slices.Contains(scopes, w) {
			t.Errorf("scope %s missing", w)
		}
	}
	for _, unwanted := range []string{"patient/Binary.rs", "patient/Binary.read", "online_access", "launch/encounter",
		"patient/Observation.rs?category=" + obsCategorySystem + "|social-history"} {
		if slices.Contains(scopes, unwanted) {
			t.Errorf("scope %s is advertised", unwanted)
		}
	}
	if status, body := get(p.BaseURL + "/metadata"); status != http.StatusOK || !bytes.Contains(body, []byte(s.URL()+"/oauth/oauth2/token")) {
		t.Errorf("metadata: %d", status)
	}
}

func TestBinaryInBothAcceptForms(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, testScopes)
	total, _, docs := searchAll(t, s, p.BaseURL+"/DocumentReference", tok.AccessToken)
	if total != 6 {
		t.Fatalf("%d DocumentReferences, want 6", total)
	}
	seen := map[string]bool{}
	for _, raw := range docs {
		var d struct {
			Content []struct {
				Attachment struct {
					ContentType, URL string
					Size             int
				}
			}
		}
		json.Unmarshal(raw, &d)
		att := d.Content[0].Attachment
		if !strings.HasPrefix(att.URL, "Binary/") {
			t.Fatalf("attachment url %q is not relative", att.URL)
		}
		seen[att.ContentType] = true

		status, content, hdr := fhirGet(t, s, p.BaseURL+"/"+att.URL, tok.AccessToken, "")
		if status != http.StatusOK || hdr.Get("Content-Type") != att.ContentType || len(content) != att.Size {
			t.Fatalf("raw %s: %d %s, %d bytes", att.URL, status, hdr.Get("Content-Type"), len(content))
		}
		status, body, hdr := fhirGet(t, s, p.BaseURL+"/"+att.URL, tok.AccessToken, "application/fhir+json")
		var bin struct{ ResourceType, ContentType, Data string }
		json.Unmarshal(body, &bin)
		data, err := base64.StdEncoding.DecodeString(bin.Data)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "application/fhir+json") ||
			bin.ResourceType != "Binary" || bin.ContentType != att.ContentType || err != nil || !bytes.Equal(data, content) {
			t.Fatalf("Binary resource for %s: %d %+v", att.URL, status, bin.ContentType)
		}
		checkContent(t, att.ContentType, content)
	}
	for _, ct := range []string{"text/plain", "application/pdf", "image/png", "application/xml", "text/html", "text/rtf"} {
		if !seen[ct] {
			t.Errorf("no %s document", ct)
		}
	}
}

func checkContent(t *testing.T, contentType string, b []byte) {
	t.Helper()
	switch contentType {
	case "application/pdf":
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
			t.Errorf("PDF is malformed")
		}
	case "image/png":
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("PNG does not decode: %v", err)
		}
	case "application/xml":
		var doc struct{ XMLName xml.Name }
		if err := xml.Unmarshal(b, &doc); err != nil || doc.XMLName.Local != "ClinicalDocument" {
			t.Errorf("C-CDA does not parse: %v", err)
		}
	case "text/plain":
		if !bytes.Contains(b, []byte("synthetic")) {
			t.Errorf("note does not say it is synthetic")
		}
	}
}

func TestScopeEnforcement(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p, other := practice0(t, s, 0), practice0(t, s, 1)
	narrow := connect(t, s, p, "launch/patient patient/Patient.rs patient/Observation.rs patient/Binary.r patient/Goal.r")

	status, body, _ := fhirGet(t, s, p.BaseURL+"/Condition", narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusForbidden, scopeDenied)
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Goal", narrow.AccessToken, "") // .r grants read, not search
	wantOutcome(t, status, body, http.StatusForbidden, scopeDenied)
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Binary", narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusForbidden, scopeDenied)

	status, body, _ = fhirGet(t, s, p.BaseURL+"/Patient/"+other.PatientID, narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusNotFound, "")
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Observation?patient="+other.PatientID, narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusForbidden, "")
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Observation?subject=Patient/"+p.PatientID, narrow.AccessToken, "")
	if status != http.StatusOK {
		t.Errorf("subject=Patient/<own id> answered %d %s", status, body)
	}
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Spaceship", narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusNotFound, "")
	status, body, _ = fhirGet(t, s, p.BaseURL+"/Observation/does-not-exist", narrow.AccessToken, "")
	wantOutcome(t, status, body, http.StatusNotFound, "")
	req, _ := http.NewRequest(http.MethodPost, p.BaseURL+"/Observation", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+narrow.AccessToken)
	if resp, err := s.HTTPClient().Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST answered %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
}

func TestCategoryScopesNarrowResults(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	p := practice0(t, s, 0)
	labScope := "patient/Observation.rs?category=" + obsCategorySystem + "|laboratory"
	socialScope := "patient/Observation.rs?category=" + ecwSocialHistoryTypoCS + "|social-history"
	tok := connect(t, s, p, "launch/patient "+labScope+" "+socialScope)

	total, _, obs := searchAll(t, s, p.BaseURL+"/Observation?_count=50", tok.AccessToken)
	labs := len(recordsOf(p.Code, "Observation", "laboratory"))
	if total != labs+1 || len(obs) != total {
		t.Fatalf("narrowed search returned %d, want %d labs + 1 smoking status", total, labs)
	}
	if b := searchJSON(t, s, p.BaseURL+"/Observation?category=social-history", tok.AccessToken); b.Total != 1 {
		t.Errorf("social-history through eCW's typo scope: total %d", b.Total)
	}
	vital := recordsOf(p.Code, "Observation", "vital-signs")[0]
	status, body, _ := fhirGet(t, s, p.BaseURL+"/Observation/"+vital.id, tok.AccessToken, "")
	wantOutcome(t, status, body, http.StatusForbidden, scopeDenied)
	lab := recordsOf(p.Code, "Observation", "laboratory")[0]
	if status, _, _ := fhirGet(t, s, p.BaseURL+"/Observation/"+lab.id, tok.AccessToken, ""); status != http.StatusOK {
		t.Errorf("lab read answered %d", status)
	}
}

// recordsOf returns a practice's records of one type and category code.
func recordsOf(code, typ, category string) []*record {
	var out []*record
	for _, p := range catalog() {
		if p.code != code {
			continue
		}
		for _, r := range p.byType[typ] {
			if tokensMatch([]string{category}, r.categories) {
				out = append(out, r)
			}
		}
	}
	return out
}

func TestSearchParameters(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{PageSize: 7})
	p := practice0(t, s, 0)
	tok := connect(t, s, p, "launch/patient patient/*.rs")
	labs := len(recordsOf(p.Code, "Observation", "laboratory"))
	visits := len(allResources(t, s, p.BaseURL+"/Encounter", tok.AccessToken))

	totalOf := func(query string) int {
		t.Helper()
		return searchJSON(t, s, p.BaseURL+"/"+query, tok.AccessToken).Total
	}
	tests := []struct {
		query string
		want  int
	}{
		{"Observation?code=http://loinc.org|4548-4", visits},
		{"Observation?code=4548-4,2345-7", 2 * visits},
		{"Observation?code=http://snomed.info/sct|4548-4", 0},
		{"Observation?category=" + url.QueryEscape(obsCategorySystem+"|laboratory"), labs},
		{"Observation?category=laboratory&code=4548-4&code=2345-7", 0},
		{"Observation?category=sdoh", 1},
		{"Condition?category=problem-list-item", 3},
		{"Condition?category=" + url.QueryEscape(condCategorySystem+"|encounter-diagnosis"), 1},
		{"Condition?category=" + url.QueryEscape(usCoreCondCategorySys+"|health-concern"), 1},
		{"MedicationRequest?status=active", 3},
		{"MedicationRequest?status=stopped", 1},
		{"MedicationRequest?status=active,stopped", 4},
		{"Encounter?date=ge1900-01-01&date=le2100", visits},
		{"Encounter?date=lt1900", 0},
		{"Patient?_id=" + p.PatientID, 1},
		{"Patient?_id=someone-else", 0},
		{"Practitioner", 2},
		{"Organization", 1},
	}
	for _, tc := range tests {
		if got := totalOf(tc.query); got != tc.want {
			t.Errorf("%s: total %d, want %d", tc.query, got, tc.want)
		}
	}

	// Dates split the labs exactly in two.
	encs := allResources(t, s, p.BaseURL+"/Encounter", tok.AccessToken)
	var enc struct{ Period struct{ Start string } }
	json.Unmarshal(encs[len(encs)/2], &enc)
	day := enc.Period.Start[:10]
	before, after := totalOf("Observation?category=laboratory&date=lt"+day), totalOf("Observation?category=laboratory&date=ge"+day)
	if before+after != labs || before == 0 || after == 0 {
		t.Errorf("date split at %s: %d + %d != %d", day, before, after, labs)
	}
	if on := totalOf("Observation?category=laboratory&date=" + day); on != len(recordsOf(p.Code, "Observation", "laboratory"))/visits {
		t.Errorf("date=%s: %d labs", day, on)
	}
	if got := totalOf("Observation?category=laboratory&date=gt" + day + "&date=le2100-01-01"); got != after-labs/visits {
		t.Errorf("date=gt%s: %d", day, got)
	}

	// _count and next links keep the query.
	b := searchJSON(t, s, p.BaseURL+"/Observation?category=laboratory&_count=5", tok.AccessToken)
	next := b.link("next")
	if len(b.Entry) != 5 || !strings.HasPrefix(next, p.BaseURL+"/Observation?") ||
		!strings.Contains(next, "_count=5") || !strings.Contains(next, "category=laboratory") {
		t.Fatalf("page 1: %d entries, next %q", len(b.Entry), next)
	}
	for _, e := range b.Entry {
		if e.Search.Mode != "match" || !strings.HasPrefix(e.FullURL, p.BaseURL+"/Observation/") {
			t.Errorf("entry %s mode %q", e.FullURL, e.Search.Mode)
		}
	}
	if b := searchJSON(t, s, p.BaseURL+"/Observation?category=laboratory", tok.AccessToken); len(b.Entry) != 7 {
		t.Errorf("Options.PageSize 7 gave %d entries", len(b.Entry))
	}
	if b := searchJSON(t, s, p.BaseURL+"/Observation?_count=0", tok.AccessToken); len(b.Entry) != 0 || b.Total == 0 || b.link("next") != "" {
		t.Errorf("_count=0: %d entries, total %d", len(b.Entry), b.Total)
	}

	for _, bad := range []string{"Observation?date=ap2024", "Observation?date=yesterday", "Observation?_count=-1", "Observation?_page=0"} {
		status, body, _ := fhirGet(t, s, p.BaseURL+"/"+bad, tok.AccessToken, "")
		wantOutcome(t, status, body, http.StatusBadRequest, "")
	}
}

func allResources(t *testing.T, s *Server, u, token string) []json.RawMessage {
	t.Helper()
	_, _, res := searchAll(t, s, u, token)
	return res
}

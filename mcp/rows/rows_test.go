package rows

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func rowJSON(t *testing.T, resource string, resolve Resolver) (Row, string) {
	t.Helper()
	r := Of(json.RawMessage(resource), resolve)
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return r, string(b)
}

func TestObservationRow(t *testing.T) {
	r, got := rowJSON(t, `{"resourceType":"Observation","id":"o1","status":"final",
		"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
		"code":{"coding":[{"system":"http://loinc.org","code":"2093-3","display":"Cholesterol [Mass/volume] in Serum or Plasma"}],"text":"Cholesterol"},
		"effectiveDateTime":"2024-03-05T09:30:00-05:00","valueQuantity":{"value":212.0,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},
		"interpretation":[{"coding":[{"code":"H","display":"High"}]}],
		"referenceRange":[{"low":{"value":0,"unit":"mg/dL"},"high":{"value":199,"unit":"mg/dL"}}]}`, nil)
	want := `{"id":"o1","date":"2024-03-05T09:30:00-05:00","test":"Cholesterol","code":"http://loinc.org|2093-3","value":"212.0 mg/dL","flag":"H","range":"0–199 mg/dL","status":"final","category":"laboratory"}`
	if got != want {
		t.Fatalf("row\n got %s\nwant %s", got, want)
	}
	if r.Key != "http://loinc.org|2093-3" || !strings.Contains(r.Text, "Cholesterol [Mass/volume]") || !r.When.Equal(time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)) {
		t.Fatalf("row %+v", r)
	}
}

func TestBloodPressureRowHasItsParts(t *testing.T) {
	_, got := rowJSON(t, `{"resourceType":"Observation","id":"bp","status":"final","code":{"text":"Blood pressure"},
		"effectivePeriod":{"start":"2024-01-02"},
		"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}],"text":"Systolic"},"valueQuantity":{"value":138,"unit":"mmHg"},"interpretation":[{"coding":[{"code":"H"}]}]},
		             {"code":{"text":"Diastolic"},"valueQuantity":{"value":86,"comparator":"<","unit":"mmHg"}}]}`, nil)
	for _, w := range []string{`"test":"Systolic","code":"http://loinc.org|8480-6","value":"138 mmHg","flag":"H"`, `"value":"<86 mmHg"`, `"date":"2024-01-02"`} {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not hold %s", got, w)
		}
	}
}

func TestMedicationNamedOnlyByAnIncludedMedication(t *testing.T) {
	med := json.RawMessage(`{"resourceType":"Medication","id":"m1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"617310","display":"atorvastatin 20 MG Oral Tablet"}]}}`)
	resolve := func(ref string) json.RawMessage {
		if ref == "Medication/m1" {
			return med
		}
		return nil
	}
	r, got := rowJSON(t, `{"resourceType":"MedicationRequest","id":"mr","status":"active","intent":"order","medicationReference":{"reference":"Medication/m1"},
		"authoredOn":"2023-03-14","dosageInstruction":[{"doseAndRate":[{"doseQuantity":{"value":1,"unit":"tablet"}}],"timing":{"code":{"text":"at bedtime"}}}],
		"dispenseRequest":{"numberOfRepeatsAllowed":3,"quantity":{"value":30,"unit":"tablet"}}}`, resolve)
	for _, w := range []string{`"medication":"atorvastatin 20 MG Oral Tablet"`, `"code":"http://www.nlm.nih.gov/research/umls/rxnorm|617310"`, `"dose":"1 tablet, at bedtime"`, `"supply":"30 tablet, 3 refills"`} {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not hold %s", got, w)
		}
	}
	if r.Key != "http://www.nlm.nih.gov/research/umls/rxnorm|617310" {
		t.Errorf("key %q", r.Key)
	}
	// Without the Medication, the reference is all there is to show.
	_, got = rowJSON(t, `{"resourceType":"MedicationRequest","id":"mr","medicationReference":{"reference":"Medication/m2","display":"Lipitor"}}`, resolve)
	if !strings.Contains(got, `"medication":"Lipitor"`) {
		t.Errorf("row %s", got)
	}
}

// What a practice sends is hostile: members of the wrong type, huge texts, unknown types and
// non-objects become rows that say so, bounded, never errors or panics.
func TestHostileResourcesBecomeBoundedRows(t *testing.T) {
	huge := strings.Repeat("ü", 100_000)
	for _, tc := range []struct{ name, resource, want string }{
		{"wrong type", `{"resourceType":"Observation","id":"o1","code":"not a concept"}`, `"unreadable":"its code is a JSON string`},
		{"wrong number", `{"resourceType":"Observation","id":"o1","valueQuantity":{"value":"abc"}}`, `"unreadable"`},
		{"unknown type", `{"resourceType":"Basic","id":"b1"}`, `{"id":"b1","type":"Basic"}`},
		{"not an object", `[1,2]`, `"unreadable":"not a FHIR resource"`},
		{"huge text", `{"resourceType":"Condition","id":"c1","code":{"text":"` + huge + `"},"note":[{"text":"` + huge + `"}]}`, `"problem":"üü`},
		{"huge id", `{"resourceType":"Goal","id":"` + huge + `"}`, `"id":"üü`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := rowJSON(t, tc.resource, nil)
			if !strings.Contains(got, tc.want) || len(got) > 2*maxLong+4*maxText {
				t.Fatalf("%d bytes: %.300s", len(got), got)
			}
		})
	}
}

func TestWhen(t *testing.T) {
	for s, want := range map[string]time.Time{
		"2024":                      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		"2024-03":                   time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		"2024-03-05":                time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC),
		"2024-03-05T10:00:00+02:00": time.Date(2024, 3, 5, 8, 0, 0, 0, time.UTC),
		"2024-03-05T10:00:00.123Z":  time.Date(2024, 3, 5, 10, 0, 0, 123e6, time.UTC),
		"2024-03-05T10:00:00":       time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC),
		"last spring":               {},
		"":                          {},
	} {
		if got := When(s); !got.Equal(want) {
			t.Errorf("When(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestLongConclusionKeepsItsImpression(t *testing.T) {
	text := "FINDINGS:\\n" + strings.Repeat("1. Nothing of note. ", 200) + "\\nIMPRESSION: No acute findings."
	_, got := rowJSON(t, `{"resourceType":"DiagnosticReport","id":"d","conclusion":"`+text+`"}`, nil)
	if !strings.Contains(got, "IMPRESSION: No acute findings.") || !strings.Contains(got, "ask for detail full") || len(got) > 1000 {
		t.Fatalf("%d bytes: %s", len(got), got)
	}
}

func FuzzOf(f *testing.F) {
	f.Add(`{"resourceType":"Observation","id":"o","valueQuantity":{"value":1,"unit":"x"},"component":[{}]}`)
	f.Add(`{"resourceType":"MedicationRequest","medicationReference":{"reference":"Medication/1"}}`)
	f.Add(`{"resourceType":"DiagnosticReport","conclusion":"IMPRESSION:"}`)
	f.Fuzz(func(t *testing.T, s string) {
		r := Of(json.RawMessage(s), func(string) json.RawMessage { return json.RawMessage(s) })
		if _, err := r.JSON(); err != nil {
			t.Fatalf("row does not marshal: %v", err)
		}
	})
}

package rows

import (
	"encoding/json"
	"testing"
)

// labResult is a lab Observation as a practice sends it once cleaned, with the members rows
// read and some they skip.
const labResult = `{"resourceType":"Observation","id":"lab-0007","meta":{"versionId":"1","lastUpdated":"2024-03-06T10:00:00Z","profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},
"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}],"text":"Laboratory"}],
"code":{"coding":[{"system":"http://loinc.org","code":"13457-7","display":"Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation"}],"text":"LDL Cholesterol"},
"subject":{"reference":"Patient/p1","display":"Jane Sample"},"encounter":{"reference":"Encounter/e3"},
"effectiveDateTime":"2024-03-05T09:30:00-05:00","issued":"2024-03-05T15:02:11-05:00","performer":[{"reference":"Organization/lab","display":"Sample Reference Laboratory"}],
"valueQuantity":{"value":124,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},
"interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"H","display":"High"}],"text":"High"}],
"referenceRange":[{"low":{"value":0,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},"high":{"value":99,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},"text":"0-99 mg/dL"}],
"note":[{"text":"Fasting specimen."}]}`

// BenchmarkOf is what one lab result's row costs; a typed search builds one per match it reads.
func BenchmarkOf(b *testing.B) {
	raw := json.RawMessage(labResult)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if r := Of(raw, nil); r.Key != "http://loinc.org|13457-7" {
			b.Fatalf("row %+v", r)
		}
	}
}

package mcp

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// deepBody is about size bytes of JSON, levels resource-like objects each inside the list of
// the one before (so nested 2*levels+1 deep), each with a narrative, so that nothing can be
// skipped without reading it.
func deepBody(levels, size int) []byte {
	pad := strings.Repeat("x", max(size/levels-80, 1))
	var b strings.Builder
	for range levels {
		b.WriteString(`{"text":{"status":"generated","div":"<div>` + pad + `</div>"},"item":[`)
	}
	b.WriteString(`{}`)
	for range levels {
		b.WriteString(`]}`)
	}
	return []byte(b.String())
}

// realisticBundle is a searchset Bundle of about size bytes as eCW sends them: laboratory
// Observations with narratives, and every tenth entry a radiology report with its text inline.
func realisticBundle(size int) []byte {
	report := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("FINDINGS: no acute disease. ", 1000)))
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":100000,"link":[{"relation":"self","url":"https://fhir4.healow.com/fhir/r4/FEIGCD/Observation?patient=p1"},` +
		`{"relation":"next","url":"https://fhir4.healow.com/fhir/r4/FEIGCD/Observation?patient=p1&_page=2"}],"entry":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if i%10 == 9 {
			fmt.Fprintf(&b, `{"fullUrl":"https://fhir4.healow.com/fhir/r4/FEIGCD/DiagnosticReport/r%d","resource":{"resourceType":"DiagnosticReport","id":"r%d",`+
				`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><pre>%s</pre></div>"},"status":"final",`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"36643-5","display":"Chest X-ray 2 views"}]},"subject":{"reference":"Patient/p1"},`+
				`"presentedForm":[{"contentType":"text/plain","data":"%s"}]},"search":{"mode":"match"}}`, i, i, strings.Repeat("No acute disease. ", 100), report)
			continue
		}
		fmt.Fprintf(&b, `{"fullUrl":"https://fhir4.healow.com/fhir/r4/FEIGCD/Observation/o%d","resource":{"resourceType":"Observation","id":"o%d",`+
			`"meta":{"lastUpdated":"2024-05-01T10:00:00Z","profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"]},`+
			`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Hemoglobin 13.5 g/dL (13.0-17.0) on 2024-05-01</div>"},`+
			`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],`+
			`"code":{"coding":[{"system":"http://loinc.org","code":"718-7","display":"Hemoglobin [Mass/volume] in Blood"}],"text":"Hemoglobin"},`+
			`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-01T09:30:00Z",`+
			`"valueQuantity":{"value":13.50,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"},`+
			`"referenceRange":[{"low":{"value":13.0,"unit":"g/dL"},"high":{"value":17.0,"unit":"g/dL"}}]},"search":{"mode":"match"}}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkClean times what one answer costs at the body bound (16 MiB): a realistic Bundle,
// read whole as a search page; a hostile body as deep as clean accepts; and the 4 MB body
// nested 2,000 deep that once took a minute of CPU, which clean now refuses at level 100.
func BenchmarkClean(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		body []byte
	}{
		{"bundle-16MiB", realisticBundle(16 << 20)},
		{"deep-99-16MiB", deepBody(maxDepth/2-1, 16<<20)},
		{"deep-2000-4MB", deepBody(2000, 4<<20)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				var c cleaned
				clean(ctx, bc.body, &c)
			}
		})
	}
	bundle := realisticBundle(16 << 20)
	b.Run("readPage-bundle-16MiB", func(b *testing.B) {
		b.SetBytes(int64(len(bundle)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := readPage(ctx, bundle); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package practice

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// bigBundle is a searchset of n Observations of which every tenth names another patient, each
// with a narrative and some padding, about size bytes in all.
func bigBundle(n, size int) []byte {
	pad := strings.Repeat("x", max(size/n-400, 0))
	entries := make([]string, n)
	for i := range entries {
		who := "pat-1"
		if i%10 == 0 {
			who = "pat-2"
		}
		entries[i] = fmt.Sprintf(`{"fullUrl":"https://x/Observation/o%d","resource":{"resourceType":"Observation","id":"o%d","status":"final",`+
			`"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/%s"},`+
			`"text":{"status":"generated","div":"<div>%s</div>"}},"search":{"mode":"match"}}`, i, i, who, pad)
	}
	return []byte(`{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(entries, ",") + `]}`)
}

// BenchmarkScreen measures the check of an answer against the patient, which every search and
// read pays in its request's goroutine.
func BenchmarkScreen(b *testing.B) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"page-20x3KiB", bigBundle(20, 60<<10)},
		{"bundle-16MiB", bigBundle(2000, 16<<20)},
		{"nested-2000-deep", []byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/pat-1"},"extension":` +
			strings.Repeat(`[`, 2000) + strings.Repeat(`]`, 2000) + `}}]}`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := Request{Resource: "Observation"}
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			sc, err := screen(req, "https://x/fhir", "pat-1", tc.body)
			if err != nil || !json.Valid(sc.body) {
				b.Fatal(err)
			}
			for b.Loop() {
				screen(req, "https://x/fhir", "pat-1", tc.body)
			}
		})
	}
}

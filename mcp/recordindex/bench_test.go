package recordindex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// record is a generated record of 5,000 resources and 200 documents' text, the size the issue
// names for a patient with years of history at a practice.
type record struct {
	resources [][]byte
	docs      []string
}

var vocabulary = strings.Fields(`patient reports feeling well denies chest pain shortness of breath cough fever
chills fatigue weight loss appetite sleep headache dizziness nausea vomiting abdominal pain diarrhea constipation
blood pressure controlled elevated medication adherence diet exercise walking smoking alcohol follow up weeks
months labs ordered reviewed cholesterol glucose hemoglobin kidney function liver thyroid vitamin referral
cardiology endocrinology physical therapy counseling vaccine influenza pneumococcal tetanus allergy penicillin
peanut rash swelling asthma inhaler diabetes metformin insulin hypertension lisinopril statin atorvastatin`)

func generate(n, docs int) record {
	r := rand.New(rand.NewPCG(1, 2))
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = vocabulary[r.IntN(len(vocabulary))]
		}
		return strings.Join(w, " ")
	}
	var rec record
	for i := range n {
		rec.resources = append(rec.resources, fmt.Appendf(nil, `{"resourceType":"Observation","id":"o%d","status":"final",
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory","display":"Laboratory"}]}],
"code":{"coding":[{"system":"http://loinc.org","code":"%d-%d","display":"%s"}],"text":"%s"},
"subject":{"reference":"Patient/p1"},"effectiveDateTime":"20%02d-%02d-10","valueQuantity":{"value":%d,"unit":"mg/dL"},
"note":[{"text":"%s"}]}`, i, 1000+i%300, i%10, words(3), words(3), 10+i%15, 1+i%12, i%200, words(12)))
	}
	for i := range docs {
		if i%2 == 0 {
			rec.docs = append(rec.docs, "<html><body><h1>Visit note</h1><p>"+words(600)+"</p></body></html>")
		} else {
			rec.docs = append(rec.docs, words(600))
		}
	}
	return rec
}

func (rec record) build() *Index {
	x := New()
	for i, raw := range rec.resources {
		title, text := ResourceText(raw)
		x.Add(Doc{Ref: fmt.Sprint("Observation/o", i), Date: "2024-01-01", Title: title, Text: text})
	}
	for i, d := range rec.docs {
		ct := "text/plain"
		if strings.HasPrefix(d, "<html>") {
			ct = "text/html"
		}
		text, _ := DocumentText(context.Background(), ct, []byte(d), PDFText)
		x.Add(Doc{Ref: fmt.Sprint("DocumentReference/d", i), Title: "Visit note", Text: text})
	}
	return x
}

// BenchmarkBuild indexes the whole record, as a build does once the practice has answered.
func BenchmarkBuild(b *testing.B) {
	rec := generate(5000, 200)
	var x *Index
	for b.Loop() {
		x = rec.build()
	}
	b.StopTimer()
	x = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x = rec.build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
	runtime.KeepAlive(x)
	runtime.KeepAlive(rec) // else the record's text, dead by then, is freed and offsets the index
}

// BenchmarkSearch is one search of two words, one of them a prefix, over the built index.
func BenchmarkSearch(b *testing.B) {
	x := generate(5000, 200).build()
	x.Search("warm", 1) // the sorted words are made once, at the first search after a build
	for b.Loop() {
		if _, total := x.Search("cholesterol statin", 20); total == 0 {
			b.Fatal("no match")
		}
	}
}

// BenchmarkScan is the alternative to an index: each search reads every text again, lower-cased.
func BenchmarkScan(b *testing.B) {
	rec := generate(5000, 200)
	texts := make([]string, 0, len(rec.resources)+len(rec.docs))
	for _, raw := range rec.resources {
		title, text := ResourceText(raw)
		texts = append(texts, title+" "+text)
	}
	for _, d := range rec.docs {
		texts = append(texts, MarkupText([]byte(d)))
	}
	for b.Loop() {
		n := 0
		for _, t := range texts {
			l := strings.ToLower(t)
			if strings.Contains(l, "cholesterol") && strings.Contains(l, "statin") {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no match")
		}
	}
}

// BenchmarkPDFText reads the text of the PDFs under testdata, as a build does for each PDF a
// practice holds.
func BenchmarkPDFText(b *testing.B) {
	for _, name := range []string{"ghostscript.pdf", "weasyprint.pdf", "reportlab.pdf"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(name, ".pdf"), func(b *testing.B) {
			for b.Loop() {
				if _, err := PDFText(context.Background(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

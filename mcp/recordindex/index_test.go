package recordindex

import (
	"slices"
	"strings"
	"testing"
)

func TestSearchMatchesWordsAndPrefixesBestFirst(t *testing.T) {
	x := New()
	x.Add(Doc{Ref: "Condition/1", Date: "2023-01-02", Title: "Type 2 diabetes mellitus", Text: "active"})
	x.Add(Doc{Ref: "DocumentReference/2", Date: "2024-05-06", Title: "Progress note", Text: "Patient reports coughing at night. Diabetes controlled."})
	x.Add(Doc{Ref: "Observation/3", Date: "2024-01-01", Title: "Hemoglobin A1c", Text: "final"})

	hits, total := x.Search("Diabetes", 10)
	if total != 2 || hits[0].Doc.Ref != "Condition/1" {
		t.Fatalf("diabetes: %d hits, first %+v; want the Condition, named so, first", total, hits)
	}
	if hits, _ := x.Search("cough", 10); len(hits) != 1 || !strings.Contains(hits[0].Snippet, "coughing at night") {
		t.Errorf("cough (a prefix of coughing): %+v", hits)
	}
	if hits, total := x.Search("diabetes night", 10); total != 1 || hits[0].Doc.Ref != "DocumentReference/2" {
		t.Errorf("every word must match: %+v", hits)
	}
	if hits, total := x.Search("diab", 1); total != 2 || len(hits) != 1 {
		t.Errorf("limit: %d hits of %d", len(hits), total)
	}
	if _, total := x.Search("di", 10); total != 0 {
		t.Errorf("a two-letter word matched as a prefix: %d", total)
	}
	if _, total := x.Search("a1c", 10); total != 1 {
		t.Errorf("a1c: %d", total)
	}
}

func TestDocumentTextReadsMarkupAndRTF(t *testing.T) {
	for _, c := range []struct{ ct, data, want, not string }{
		{"text/html; charset=utf-8", `<html><head><style>p{color:red}</style></head><body><h1>Visit</h1><p>Take &amp; rest<br>daily</p></body></html>`, "Take & rest", "color"},
		{"application/xml", `<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>CCD</title><section><text>Asthma; Hypertension</text></section></ClinicalDocument>`, "Asthma; Hypertension", "ClinicalDocument"},
		{"text/rtf", `{\rtf1\ansi\deff0{\fonttbl{\f0 Helvetica;}}\f0\fs24 {\b Patient instructions}\par Walk 30 minutes \{daily\}\par }`, "Walk 30 minutes {daily}", "Helvetica"},
		{"text/plain", "Feeling well.", "Feeling well.", ""},
	} {
		got, err := DocumentText(t.Context(), c.ct, []byte(c.data), PDFText)
		if err != nil || !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("%s: %q, %v; want %q without %q", c.ct, got, err, c.want, c.not)
		}
	}
	if _, err := DocumentText(t.Context(), "image/png", []byte("\x89PNG"), PDFText); err != ErrNotText {
		t.Errorf("png: %v", err)
	}
}

func TestResourceTextLeavesMachineryOut(t *testing.T) {
	title, text := ResourceText([]byte(`{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://snomed.info/sct","code":"195967001","display":"Asthma"}]},
		"subject":{"reference":"Patient/p1"},"note":[{"text":"worse in winter"}],"text":{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><b>Asthma</b> since 2010</div>"}}`))
	if !strings.Contains(title, "Asthma") || !strings.Contains(text, "worse in winter") || !strings.Contains(text, "since 2010") {
		t.Errorf("title %q, text %q", title, text)
	}
	for _, m := range []string{"snomed", "Patient/p1", "c1", "<b>"} {
		if strings.Contains(title+text, m) {
			t.Errorf("%q indexed: %q %q", m, title, text)
		}
	}
}

// Words of one stem find each other ("infections" the infection, "smoking" the patient who
// smokes), a query word still finds the words it begins, itself or stemmed ("smoking" the
// smoker), and the snippet shows the document's own word, even where the stem is not its
// beginning (happi, of happiness). Words of different stems stay apart: liver is not living.
func TestSearchMatchesWordsOfOneStem(t *testing.T) {
	x := New()
	x.Add(Doc{Ref: "Condition/uti", Date: "2024-02-01", Title: "Urinary tract infection", Text: "resolved"})
	x.Add(Doc{Ref: "Observation/smokes", Date: "2024-03-01", Title: "Tobacco use", Text: "Patient smokes ten cigarettes a day."})
	x.Add(Doc{Ref: "Observation/smoker", Date: "2024-04-01", Title: "Tobacco use", Text: "Former smoker, quit 2015."})
	x.Add(Doc{Ref: "Procedure/counsel", Date: "2024-05-01", Title: "Counseling", Text: "Smoking cessation discussed at length."})
	x.Add(Doc{Ref: "Observation/liver", Date: "2024-06-01", Title: "Liver function panel", Text: "normal"})
	x.Add(Doc{Ref: "DocumentReference/note", Date: "2024-07-01", Title: "Visit note", Text: "Lives alone; reports happiness with the new routine."})

	refs := func(hits []Hit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Doc.Ref)
		}
		return out
	}
	hits, _ := x.Search("infections", 10)
	if len(hits) != 1 || hits[0].Doc.Ref != "Condition/uti" || !strings.Contains(hits[0].Snippet, "Urinary tract infection") {
		t.Errorf("infections: %+v", hits)
	}
	hits, _ = x.Search("smoking", 10)
	if got := refs(hits); len(got) != 3 || got[0] != "Procedure/counsel" || !slices.Contains(got, "Observation/smokes") || !slices.Contains(got, "Observation/smoker") {
		t.Errorf("smoking: %v; want the counseling first (its own word), then the one who smokes and the smoker", got)
	}
	for _, h := range hits {
		if h.Doc.Ref == "Observation/smokes" && !strings.Contains(h.Snippet, "Patient smokes ten") {
			t.Errorf("snippet %q: not the document's own words", h.Snippet)
		}
	}
	hits, _ = x.Search("happy", 10)
	if len(hits) != 1 || !strings.Contains(hits[0].Snippet, "reports happiness with") {
		t.Errorf("happy: %+v", hits)
	}
	if hits, _ := x.Search("infecti", 10); len(hits) != 1 {
		t.Errorf("a word cut short (infecti) no longer finds infection: %+v", hits)
	}
	if hits, _ := x.Search("liver", 10); len(hits) != 1 || hits[0].Doc.Ref != "Observation/liver" {
		t.Errorf("liver: %v; want the panel alone, not the patient who lives alone", refs(hits))
	}
}

func TestStemLeavesNumbersAndAccentsAlone(t *testing.T) {
	for w, want := range map[string]string{"infections": "infect", "smoking": "smoke", "a1c": "a1c", "131": "131", "résumé": "résumé", "is": "is"} {
		if got := Stem(w); got != want {
			t.Errorf("Stem(%q) = %q, want %q", w, got, want)
		}
	}
}

package sandbox

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDataIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, spec := range practiceSpecs {
		a, b := buildPractice(spec), buildPractice(spec)
		for typ, recs := range a.byType {
			for i, r := range recs {
				if !bytes.Equal(r.body, b.byType[typ][i].body) {
					t.Fatalf("%s %s/%s differs between builds", spec.code, typ, r.id)
				}
			}
		}
	}
}

func TestDataShape(t *testing.T) {
	t.Parallel()
	idShape := regexp.MustCompile(`^[A-Za-z0-9.-]{44}$`)
	for i, p := range catalog() {
		if !idShape.MatchString(p.patientID) || !strings.ContainsAny(p.patientID, "-") || !strings.Contains(p.patientID, ".") {
			t.Errorf("%s patient id %q is not shaped like eCW's", p.code, p.patientID)
		}
		if n := len(recordsOf(p.code, "Observation", "laboratory")); i == 0 && n < 25 {
			t.Errorf("%s has %d labs, want at least 25", p.code, n)
		}
		for _, typ := range resourceTypes {
			if len(p.byType[typ]) == 0 {
				t.Errorf("%s has no %s", p.code, typ)
			}
		}
		if len(p.byType["Encounter"]) < 3 {
			t.Errorf("%s has %d encounters", p.code, len(p.byType["Encounter"]))
		}
		for _, cat := range []string{"vital-signs", "social-history", "sdoh"} {
			if len(recordsOf(p.code, "Observation", cat)) == 0 {
				t.Errorf("%s has no %s Observation", p.code, cat)
			}
		}
		for _, cat := range []string{condCategorySystem + "|problem-list-item", condCategorySystem + "|encounter-diagnosis", usCoreCondCategorySys + "|health-concern"} {
			if len(recordsOf(p.code, "Condition", cat)) == 0 {
				t.Errorf("%s has no Condition in %s", p.code, cat)
			}
		}
	}
}

// Every reference inside the data must resolve within the practice, or a
// client following it would hit a 404.
func TestReferencesResolve(t *testing.T) {
	t.Parallel()
	for _, p := range catalog() {
		for _, recs := range p.byType {
			for _, r := range recs {
				var v any
				json.Unmarshal(r.body, &v)
				walkRefs(v, func(ref string) {
					if p.byRef[ref] == nil {
						t.Errorf("%s %s/%s: reference %s does not resolve", p.code, r.typ, r.id, ref)
					}
				})
			}
		}
	}
}

func walkRefs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if s, ok := child.(string); ok && (k == "reference" || (k == "url" && strings.HasPrefix(s, "Binary/"))) {
				fn(s)
				continue
			}
			walkRefs(child, fn)
		}
	case []any:
		for _, child := range x {
			walkRefs(child, fn)
		}
	}
}

// The PDF's cross-reference table must point at its objects, or strict
// readers reject it.
func TestPDFOffsets(t *testing.T) {
	t.Parallel()
	pdf := tinyPDF([]string{"Line (one)", `back\slash`})
	i := bytes.LastIndex(pdf, []byte("startxref\n"))
	end := bytes.IndexByte(pdf[i+10:], '\n')
	xref, err := strconv.Atoi(string(pdf[i+10 : i+10+end]))
	if err != nil || !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	entries := strings.Split(string(pdf[xref:]), "\n")[3:8]
	for n, e := range entries {
		off, _ := strconv.Atoi(e[:10])
		if len(e)+1 != 20 || !bytes.HasPrefix(pdf[off:], []byte(strconv.Itoa(n+1)+" 0 obj")) {
			t.Errorf("xref entry %d (%q) is wrong", n+1, e)
		}
	}
	if !bytes.Contains(pdf, []byte(`(Line \(one\)) Tj`)) {
		t.Errorf("parentheses are not escaped")
	}
}

// Past its two practices, the sandbox serves copies, each with its own code, name and patient.
func TestManyPractices(t *testing.T) {
	s, err := Start(Options{Practices: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ps := s.Practices()
	codes, patients, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range ps {
		codes[p.Code], patients[p.PatientID], names[p.Name] = true, true, true
		if len(p.Code) != 6 || len(p.PatientID) != 44 {
			t.Errorf("practice %+v", p)
		}
	}
	if len(ps) != 10 || len(codes) != 10 || len(patients) != 10 || len(names) != 10 {
		t.Fatalf("%d practices, %d codes, %d patients, %d names", len(ps), len(codes), len(patients), len(names))
	}
}

// A long record is what benchmarks of a whole record need: 352 visits, 195 of them with a note,
// make 5,000 resources and 200 documents, every one dated in the past, and the catalog's
// records are the same as without it.
func TestLongRecord(t *testing.T) {
	ps := practices(3, 352, 195)
	if len(ps) != 3 || ps[2].name != ps[0].name+" 3" {
		t.Fatalf("%d practices", len(ps))
	}
	for _, p := range ps {
		resources, docs, text := 0, len(p.byType["DocumentReference"]), 0
		for typ, recs := range p.byType {
			resources += len(recs)
			for _, r := range recs {
				if r.date.After(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Fatalf("%s %s/%s is dated %s", p.name, typ, r.id, r.date)
				}
				if typ == "Binary" && r.contentType == "text/plain" {
					text++
				}
			}
		}
		if p.name == catalog()[0].name && (resources < 5000 || resources > 5100 || docs != 200 || text != 195) {
			t.Errorf("%s: %d resources, %d documents (%d plain text)", p.name, resources, docs, text)
		}
		t.Logf("%s: %d resources, %d documents", p.name, resources, docs)
	}
	short := catalog()[0]
	if again := practices(2, 0, 0)[0]; again != short {
		t.Errorf("without visits, the catalog is not served as it is")
	}
}

package mcp

import (
	"errors"
	"strings"
	"testing"
)

// The same fact from two practices is listed once with both; a result on another day, or a
// problem coded otherwise, is another fact.
func TestSummaryListsEachFactOnce(t *testing.T) {
	rows := func(rs ...summaryRow) [][]summaryRow {
		out := make([][]summaryRow, len(sections))
		for _, r := range rs {
			switch {
			case r.Problem != "":
				out[0] = append(out[0], r)
			case r.Test != "":
				out[5] = append(out[5], r)
			}
		}
		return out
	}
	dm := summaryRow{Problem: "Type 2 diabetes", Code: "http://snomed.info/sct|44054006, http://hl7.org/fhir/sid/icd-10-cm|E11.9", Status: "active"}
	dmICD := summaryRow{Problem: "Diabetes mellitus type 2", Code: "http://hl7.org/fhir/sid/icd-10-cm|E11.9"}
	asthma := summaryRow{Problem: "Asthma", Code: "http://snomed.info/sct|195967001"}
	a1c := summaryRow{Test: "Hemoglobin A1c", Code: "http://loinc.org|4548-4", Value: "7.1 %", Date: "2024-08-29T11:15:00-05:00"}
	a1cLater := a1c
	a1cLater.Date, a1cLater.Value = "2024-09-30", "6.9 %"
	out := mergeSummary([]practiceRead{
		{name: "Sunrise", sections: rows(dm, a1c)},
		{name: "Lakeside", sections: rows(dmICD, asthma, a1c, a1cLater)},
		{name: "Harbor", fatal: errors.New("needs reconnecting: run `healow connect --name Harbor` again\nmore")},
	})
	if len(out.Problems) != 2 || strings.Join(out.Problems[0].From, ",") != "Sunrise,Lakeside" || out.Problems[1].Name != "Asthma" {
		t.Fatalf("problems %+v", out.Problems)
	}
	if len(out.Labs) != 2 || out.Labs[0].Date != "2024-09-30" || strings.Join(out.Labs[1].From, ",") != "Sunrise,Lakeside" {
		t.Fatalf("labs %+v", out.Labs)
	}
	if p := out.Practices[2]; p.State != "failed" || strings.Contains(p.Error, "more") {
		t.Fatalf("practices %+v", out.Practices)
	}
}

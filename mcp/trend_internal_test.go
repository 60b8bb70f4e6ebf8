package mcp

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The same result at two practices is one point with both, even when one gave it in g/L
// (1.1 g/L is 110.00000000000001 mg/dL before rounding); a result in g/L joins the series in
// mg/dL converted; one in mmol/L is a series of its own, listed but not charted; the oldest
// beyond the bound are left out and counted.
func TestMergeTrendDeduplicatesConvertsAndBounds(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 9, 0, 0, 0, time.UTC) }
	high := 99.0
	ldl := func(d int, v float64, unit string) trendPoint {
		return trendPoint{test: "LDL", id: "13457-7", unit: unit, when: day(d), value: v, high: &high, rng: "< 99 mg/dL"}
	}
	reads := []trendRead{
		{name: "A", points: []trendPoint{ldl(1, 120, "mg/dL"), ldl(2, 110, "mg/dL"), ldl(4, 3.1, "mmol/L"), ldl(5, 90, "mg/dL")}},
		{name: "B", points: []trendPoint{ldl(2, 1.1, "g/L"), ldl(3, 1.05, "g/L")}},
		{name: "C", fatal: errors.New("the practice is down")},
	}
	out, c := mergeTrend(reads, 4)
	if len(out.Series) != 2 {
		t.Fatalf("series %+v", out.Series)
	}
	mg := out.Series[0]
	if mg.Unit != "mg/dL" || !mg.Charted || len(mg.Rows) != 3 {
		t.Fatalf("mg/dL series %+v", mg)
	}
	// Kept: the newest four results (days 2 to 5); day 1 is left out.
	if mg.Rows[0].Date != "2024-01-02" || len(mg.Rows[0].From) != 2 || mg.Rows[1].Value != 105 || mg.Rows[2].Date != "2024-01-05" {
		t.Errorf("rows %+v", mg.Rows)
	}
	if out.More != 1 || out.Series[1].Unit != "mmol/L" || out.Series[1].Charted {
		t.Errorf("more %d, second series %+v", out.More, out.Series[1])
	}
	if len(c.Series) != 1 || len(c.Series[0].Points) != 3 || c.Unit != "mg/dL" || *c.Series[0].High != 99 || len(c.Practices) != 2 {
		t.Errorf("chart %+v", c)
	}
	if out.Practices[2].State != "failed" {
		t.Errorf("practices %+v", out.Practices)
	}
	for _, want := range []string{"g/L to mg/dL were converted", "1 older results", "other units are listed, not charted"} {
		if !strings.Contains(out.Note, want) {
			t.Errorf("note %q does not say %q", out.Note, want)
		}
	}
}

package chart

import (
	"bytes"
	"image"
	_ "image/png"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func series(n, practices int) Chart {
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	low, high := 0.0, 99.0
	s := Series{Name: "LDL", Low: &low, High: &high}
	for i := range n {
		s.Points = append(s.Points, Point{When: start.AddDate(0, 0, 7*i), Value: 100 + float64(i%17)*3, Practice: i % practices})
	}
	names := []string{"Sunrise Family Medicine", "Lakeside Internal Medicine", "Third"}
	return Chart{Title: "LDL", Unit: "mg/dL", Practices: names[:practices], Series: []Series{s}}
}

func TestDrawMarksEveryPointOnAPNGOfTheStatedSize(t *testing.T) {
	for _, n := range []int{1, 2, 40} {
		png, drawn, err := Draw(series(n, 2))
		if err != nil {
			t.Fatal(err)
		}
		if drawn != n {
			t.Errorf("%d points: %d drawn", n, drawn)
		}
		img, format, err := image.Decode(bytes.NewReader(png))
		if err != nil || format != "png" {
			t.Fatalf("%d points: not a PNG (%s): %v", n, format, err)
		}
		if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
			t.Errorf("%d points: %v, want %dx%d", n, b, Width, Height)
		}
	}
}

// BenchmarkTrendChart draws the 500 points of a long record: what a lab_trend call pays for its
// image, beside the reading it waits for.
func BenchmarkTrendChart(b *testing.B) {
	c := series(500, 2)
	var size int
	for b.Loop() {
		png, _, err := Draw(c)
		if err != nil {
			b.Fatal(err)
		}
		size = len(png)
	}
	b.ReportMetric(float64(size), "png-bytes")
}

// A title of any length fits the image: two lines at most, broken at spaces, the rest cut.
func TestWrapKeepsTitlesToTwoLines(t *testing.T) {
	long := strings.Repeat("Cholesterol in LDL [Mass/volume] in Serum or Plasma ", 6)
	for _, tc := range []struct {
		in        string
		lines     int
		ellipsis  bool
		firstLine string
	}{
		{"LDL", 1, false, "LDL"},
		{long[:120], 2, false, "Cholesterol in LDL [Mass/volume] in Serum or Plasma Cholesterol in LDL"},
		{long, 2, true, "Cholesterol in LDL [Mass/volume] in Serum or Plasma Cholesterol in LDL"},
		{strings.Repeat("é", 300), 2, true, strings.Repeat("é", titleLine-1)},
	} {
		got := strings.Split(wrap(tc.in, titleLine, 2), "\n")
		if len(got) != tc.lines || got[0] != tc.firstLine || strings.HasSuffix(got[len(got)-1], "…") != tc.ellipsis {
			t.Errorf("wrap(%.20q…) = %q", tc.in, got)
		}
		for _, l := range got {
			if n := utf8.RuneCountInString(l); n > titleLine {
				t.Errorf("a line of %d runes: %q", n, l)
			}
		}
	}
}

// A range open on one side that every result lies beyond (LDL's "<=99" under results of 115 to
// 131) still takes a fifth of the value axis, rather than a sliver at its edge.
func TestOpenRangeShowsAsABand(t *testing.T) {
	high, low := 99.0, 60.0
	ldl := Chart{Series: []Series{{High: &high, Points: []Point{{Value: 115}, {Value: 131}}}}}
	lo, hi := openRange(ldl, 99, 131)
	if (high-lo)/(hi-lo) < 0.2 || hi != 131 {
		t.Errorf("<=99 under 115-131: axis %v to %v", lo, hi)
	}
	egfr := Chart{Series: []Series{{Low: &low, Points: []Point{{Value: 40}, {Value: 52}}}}}
	lo, hi = openRange(egfr, 40, 60)
	if (hi-low)/(hi-lo) < 0.2 || lo != 40 {
		t.Errorf(">=60 over 40-52: axis %v to %v", lo, hi)
	}
	// Results inside the range already show the band; the axis is left alone.
	inside := Chart{Series: []Series{{High: &high, Points: []Point{{Value: 60}, {Value: 80}}}}}
	if lo, hi = openRange(inside, 60, 99); lo != 60 || hi != 99 {
		t.Errorf("results inside the range: axis %v to %v", lo, hi)
	}
}

package chart

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"
	"time"
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

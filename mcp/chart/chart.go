// Package chart draws a test's results over time as a PNG, for a model's client to show: people
// would rather look at a trend than read dozens of rows.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Size of the image: Claude Desktop shows a tool's image about 700 pixels wide, so the chart is
// drawn at that size rather than scaled down from a larger one, which would blur its text.
const (
	Width  = 720
	Height = 400
	dpi    = 96
)

// Point is one result.
type Point struct {
	When     time.Time
	Value    float64
	Practice int // index into Chart.Practices: its marker's shape
}

// Series is one test in one unit: the chart joins its points with a line.
type Series struct {
	Name      string
	Points    []Point // oldest first
	Low, High *float64
	Range     string // the reference range as the practice wrote it, for the legend
}

// Text bounds: a title longer than two lines of titleLine runes, or a legend entry longer than
// legendLine, is cut, so that nothing runs off the image whatever a practice names a test.
const (
	titleLine  = 84
	legendLine = 56
)

// Chart is what is drawn: series sharing one unit, so that one axis serves them all.
type Chart struct {
	Title     string
	Unit      string
	Practices []string
	Series    []Series
}

// Colors of the series, told apart also by people who cannot tell red from green (Okabe-Ito).
var colors = []color.RGBA{
	{0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255},
	{230, 159, 0, 255}, {86, 180, 233, 255}, {0, 0, 0, 255},
}

// glyphs tell the practices apart.
var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{},
}

// Draw renders c as a PNG and returns it with how many points it marked.
func Draw(c Chart) ([]byte, int, error) {
	first, last := span(c)
	if first.IsZero() {
		return nil, 0, fmt.Errorf("chart: no point to draw")
	}
	p := plot.New()
	p.Title.Text = wrap(c.Title, titleLine, 2)
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.Text = readableUnit.Replace(c.Unit)
	p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02"}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Add(plotter.NewGrid())
	// Room around the points, so none sits on an axis, and above them for the legend, which
	// gonum draws over the data.
	x0, x1 := float64(first.Unix()), float64(last.Unix())
	pad := max((x1-x0)*0.04, 15*24*3600)
	p.X.Min, p.X.Max = x0-pad, x1+pad
	y0, y1 := valueSpan(c)
	if y1 == y0 {
		y0, y1 = y0-1, y1+1
	}
	y0, y1 = openRange(c, y0, y1)
	h := y1 - y0
	// One series is named by the title; its legend entry would only repeat it, so the legend
	// names its reference range instead.
	named := len(c.Series) > 1
	legendLines := 0.0
	if named {
		legendLines += float64(len(c.Series))
	} else if c.Series[0].Range != "" && (c.Series[0].Low != nil || c.Series[0].High != nil) {
		legendLines++
	}
	// Practices are told apart in the legend only when more than one has a point.
	shown := practicesShown(c)
	if len(shown) < 2 {
		shown = nil
	}
	legendLines += float64(len(shown))
	p.Y.Min, p.Y.Max = y0-h*0.08, y1+h*(0.08+0.09*legendLines)
	drawn := 0
	for i, s := range c.Series {
		col := colors[i%len(colors)]
		if s.Low != nil || s.High != nil {
			if band := rangeBand(s, p.X.Min, p.X.Max, p.Y.Min, p.Y.Max, col); band != nil {
				p.Add(band)
				if !named && s.Range != "" {
					p.Legend.Add(cut("Reference range "+s.Range, legendLine), band)
				}
			}
		}
		xys := make(plotter.XYs, len(s.Points))
		for j, pt := range s.Points {
			xys[j] = plotter.XY{X: float64(pt.When.Unix()), Y: pt.Value}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, 0, fmt.Errorf("chart: %w", err)
		}
		line.Color, line.Width = col, vg.Points(1.5)
		p.Add(line)
		if named {
			p.Legend.Add(cut(s.Name, legendLine), line)
		}
		for pr := range c.Practices {
			var at plotter.XYs
			for j, pt := range s.Points {
				if pt.Practice == pr {
					at = append(at, xys[j])
				}
			}
			if len(at) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(at)
			if err != nil {
				return nil, 0, fmt.Errorf("chart: %w", err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: glyphs[pr%len(glyphs)]}
			p.Add(sc)
			drawn += len(at)
		}
	}
	for _, pr := range shown {
		name := cut(c.Practices[pr], legendLine)
		sc, _ := plotter.NewScatter(plotter.XYs{})
		sc.GlyphStyle = draw.GlyphStyle{Color: color.Gray{90}, Radius: vg.Points(3.5), Shape: glyphs[pr%len(glyphs)]}
		p.Legend.Add(name, sc)
	}
	canvas := vgimg.NewWith(vgimg.UseWH(Width*vg.Inch/dpi, Height*vg.Inch/dpi), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(canvas))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&b); err != nil {
		return nil, 0, fmt.Errorf("chart: %w", err)
	}
	return b.Bytes(), drawn, nil
}

// span is the first and last date charted.
func span(c Chart) (first, last time.Time) {
	for _, s := range c.Series {
		for _, pt := range s.Points {
			if first.IsZero() || pt.When.Before(first) {
				first = pt.When
			}
			if pt.When.After(last) {
				last = pt.When
			}
		}
	}
	return first, last
}

// practicesShown are the practices with a point on the chart, for the legend.
func practicesShown(c Chart) []int {
	var shown []int
	for pr := range c.Practices {
		for _, s := range c.Series {
			if slices.ContainsFunc(s.Points, func(p Point) bool { return p.Practice == pr }) {
				shown = append(shown, pr)
				break
			}
		}
	}
	return shown
}

// valueSpan is the lowest and highest value charted, reference ranges included.
func valueSpan(c Chart) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, pt := range s.Points {
			lo, hi = min(lo, pt.Value), max(hi, pt.Value)
		}
		for _, b := range []*float64{s.Low, s.High} {
			if b != nil {
				lo, hi = min(lo, *b), max(hi, *b)
			}
		}
	}
	return lo, hi
}

// openRange widens the value axis so that a reference range open on one side (LDL's "<=99")
// shows as a band of at least a fifth of the axis, rather than a sliver at its edge when every
// result lies beyond the range.
func openRange(c Chart, lo, hi float64) (float64, float64) {
	for _, s := range c.Series {
		switch {
		case s.High != nil && s.Low == nil && *s.High <= lo+(hi-lo)/5:
			lo = min(lo, *s.High-(hi-*s.High)/4)
		case s.Low != nil && s.High == nil && *s.Low >= hi-(hi-lo)/5:
			hi = max(hi, *s.Low+(*s.Low-lo)/4)
		}
	}
	return lo, hi
}

// readableUnit writes UCUM's bracketed units as people read them, for the axis only; the rows
// keep the practice's own unit.
var readableUnit = strings.NewReplacer("mm[Hg]", "mmHg", "[lb_av]", "lb", "[in_i]", "in", "[degF]", "°F", "Cel", "°C", "{beats}/min", "beats/min")

// wrap breaks s at spaces into at most lines lines of about width runes each, cutting what is
// left with an ellipsis.
func wrap(s string, width, lines int) string {
	var out []string
	for s != "" && len(out) < lines {
		if utf8.RuneCountInString(s) <= width {
			out = append(out, s)
			s = ""
			break
		}
		end := len(cut(s, width)) - len("…") // the bytes of the first width runes
		if sp := strings.LastIndexByte(s[:end], ' '); sp > 0 {
			end = sp
		}
		out = append(out, strings.TrimSpace(s[:end]))
		s = strings.TrimSpace(s[end:])
	}
	if s != "" {
		out[len(out)-1] = cut(out[len(out)-1]+" "+s, width)
	}
	return strings.Join(out, "\n")
}

// cut shortens s to n runes, the last an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// rangeBand is a series' reference range as a pale band across the chart; an open side (LDL's
// range has no lower bound) runs to the axis' end.
func rangeBand(s Series, x0, x1, y0, y1 float64, col color.RGBA) *plotter.Polygon {
	lo, hi := y0, y1
	if s.Low != nil {
		lo = *s.Low
	}
	if s.High != nil {
		hi = *s.High
	}
	if hi <= lo {
		return nil
	}
	band, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: lo}, {X: x1, Y: lo}, {X: x1, Y: hi}, {X: x0, Y: hi}})
	if err != nil {
		return nil
	}
	band.Color = color.NRGBA{col.R, col.G, col.B, 36}
	band.LineStyle.Width = 0
	return band
}

// Package chart draws the reports' charts as SVG on the server: stacked
// bars, lines, and a bar split in shares. The pages need no JavaScript, the
// charts print, and every number is in a <title> that browsers show on
// hover and screen readers read.
//
// Colours are attributes, not styles, so that the admin console's
// Content-Security-Policy (no inline style) lets them through. Every text
// that reaches the SVG is escaped.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Series is one named sequence of values, drawn in one colour.
type Series struct {
	Name   string
	Color  string // a colour chosen by the code ("#1d4e89"), never by input
	Values []float64
	// Down draws the series below the axis: departures under arrivals.
	Down bool
}

// Format writes a value on an axis or in a title; nil writes integers.
type Format func(float64) string

func (f Format) or() Format {
	if f != nil {
		return f
	}
	return func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
}

// Bars is a chart of stacked bars, one per label.
type Bars struct {
	Title  string   // what the chart shows, for screen readers
	Labels []string // one per bar
	Series []Series
	Width  int // of the view box; default 720
	Height int // default 240
	Format Format
	// Empty is the text drawn when there is nothing to show.
	Empty string
}

const (
	font      = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"`
	inkColor  = "#1f2933"
	mutedInk  = "#616e7c"
	lineColor = "#e4e7eb"
)

// frame holds the geometry shared by bars and lines.
type frame struct {
	w, h                   float64
	left, right, top, base float64 // plot area: x from left to right, y from top to base
	up, down               float64 // the largest value above and below the axis
	zero                   float64 // y of the axis
	format                 Format
}

func newFrame(width, height int, legendH, up, down float64, format Format) *frame {
	if height <= 0 {
		height = 240
	}
	height += int(legendH) // the plot keeps its height however long the legend
	f := &frame{w: float64(width), h: float64(height), left: 52, right: float64(width) - 12, top: 24 + legendH,
		base: float64(height) - 26, format: format.or()}
	f.up, f.down = nice(up), 0
	if down > 0 {
		f.down = nice(down)
	}
	if f.up == 0 && f.down == 0 {
		f.up = 1
	}
	f.zero = f.top + (f.base-f.top)*f.up/(f.up+f.down)
	return f
}

// y returns the vertical position of v (negative below the axis).
func (f *frame) y(v float64) float64 {
	return f.zero - v*(f.base-f.top)/(f.up+f.down)
}

// nice rounds v up to 1, 2 or 5 times a power of ten, so that the axis
// reads in round numbers.
func nice(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// grid draws the horizontal lines and their values.
func (f *frame) grid(b *strings.Builder) {
	ticks := func(max float64, sign float64, prefix string) {
		if max == 0 {
			return
		}
		// Round steps (1, 2, 5 times a power of ten) that divide the
		// axis: counts read as counts.
		step := nice(max / 4)
		for step > 1 && math.Mod(max, step) != 0 {
			step = nice(step / 2)
		}
		step = math.Max(step, 1)
		for v := step; v <= max+1e-9; v += step {
			y := f.y(sign * v)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, f.left, y, f.right, y, lineColor)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="11" fill="%s">%s</text>`, f.left-6, y+4, mutedInk, esc(prefix+f.format(v)))
		}
	}
	ticks(f.up, 1, "")
	ticks(f.down, -1, "−")
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, f.left, f.zero, f.right, f.zero, mutedInk)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="11" fill="%s">0</text>`, f.left-6, f.zero+4, mutedInk)
}

// xLabels writes the labels under the plot, every step-th one so that
// they do not overlap.
func (f *frame) xLabels(b *strings.Builder, labels []string, x func(int) float64) {
	if len(labels) == 0 {
		return
	}
	longest := 0
	for _, l := range labels {
		longest = max(longest, len([]rune(l)))
	}
	room := (f.right - f.left) / (float64(longest)*6.5 + 10) // labels that fit side by side
	step := int(math.Ceil(float64(len(labels)) / max(room, 1)))
	for i := 0; i < len(labels); i += max(step, 1) {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" fill="%s">%s</text>`, x(i), f.h-8, mutedInk, esc(labels[i]))
	}
}

// item is one entry of a legend, placed.
type item struct {
	x, y  float64
	text  string
	color string
}

// layout places legend entries left to right from x0, wrapping at width,
// and returns them with the height they take.
func layout(texts, colors []string, x0, width float64) ([]item, float64) {
	var out []item
	x, y := x0, 10.0
	for i, t := range texts {
		w := 17 + float64(len([]rune(t)))*6.6 + 18
		if x > x0 && x+w > width {
			x, y = x0, y+18
		}
		out = append(out, item{x: x, y: y, text: t, color: colors[i]})
		x += w
	}
	if len(out) == 0 {
		return nil, 0
	}
	return out, y + 12 - 10
}

func drawLegend(b *strings.Builder, items []item, dy float64) {
	for _, it := range items {
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="12" height="12" rx="2" fill="%s"/>`, it.x, it.y+dy, attr(it.color))
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="12" fill="%s">%s</text>`, it.x+17, it.y+dy+10.5, inkColor, esc(it.text))
	}
}

// legend places the series' names and colours above the plot, and
// returns them with the height they take.
func legend(series []Series, left, width float64) ([]item, float64) {
	texts, colors := make([]string, len(series)), make([]string, len(series))
	for i, s := range series {
		texts[i], colors[i] = s.Name, s.Color
	}
	return layout(texts, colors, left, width)
}

func open(b *strings.Builder, w, h float64, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="%s" %s>`,
		w, h, attr(title), font)
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

// SVG draws the chart.
func (c Bars) SVG() template.HTML {
	var up, down float64
	for i := range c.Labels {
		var u, d float64
		for _, s := range c.Series {
			if i < len(s.Values) {
				if s.Down {
					d += s.Values[i]
				} else {
					u += s.Values[i]
				}
			}
		}
		up, down = max(up, u), max(down, d)
	}
	width := c.Width
	if width <= 0 {
		width = 720
	}
	items, lh := legend(c.Series, 52, float64(width)-12)
	// One bar far above the others (the first import of a whole address
	// book) would flatten them all: the axis stops above the second
	// highest, and the tall bar is drawn cut, with its value written.
	clip := 0.0
	if second := secondLargest(stacks(c.Series, len(c.Labels), false)); second > 0 && up > 4*second {
		clip = nice(second * 1.4)
		up = clip
	}
	f := newFrame(width, c.Height, lh, up, down, c.Format)
	var b strings.Builder
	open(&b, f.w, f.h, c.Title)
	drawLegend(&b, items, 0)
	if len(c.Labels) == 0 || up+down == 0 {
		f.grid(&b)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13" fill="%s">%s</text>`,
			(f.left+f.right)/2, (f.top+f.base)/2, mutedInk, esc(c.Empty))
		b.WriteString("</svg>")
		return template.HTML(b.String())
	}
	f.grid(&b)
	slot := (f.right - f.left) / float64(len(c.Labels))
	bar := max(slot*0.72, 1)
	x := func(i int) float64 { return f.left + slot*(float64(i)+0.5) }
	for i, label := range c.Labels {
		var u, d float64
		for _, s := range c.Series {
			if i >= len(s.Values) || s.Values[i] <= 0 {
				continue
			}
			v := s.Values[i]
			var y0, y1 float64
			if s.Down {
				y0, y1 = f.y(-d), f.y(-d-v)
				d += v
			} else {
				y0, y1 = f.y(min(u+v, f.up)), f.y(min(u, f.up))
				u += v
			}
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s · %s : %s</title></rect>`,
				x(i)-bar/2, y0, bar, max(y1-y0, 0.5), attr(s.Color), esc(label), esc(s.Name), esc(f.format(v)))
		}
	}
	if clip > 0 {
		for i, total := range stacks(c.Series, len(c.Labels), false) {
			if total <= clip {
				continue
			}
			// A white zigzag across the cut bar, and its value above.
			y := f.y(clip * 0.86)
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l%.1f -4 l%.1f 8 l%.1f -4" stroke="#fff" stroke-width="3" fill="none"/>`,
				x(i)-bar/2-1, y, (bar+2)/3, (bar+2)/3, (bar+2)/3)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="11" font-weight="600" fill="%s">%s</text>`,
				x(i), f.top-3, inkColor, esc(f.format(total)))
		}
	}
	f.xLabels(&b, c.Labels, x)
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// stacks returns, for each of n bars, the sum of the series drawn up (or
// down).
func stacks(series []Series, n int, down bool) []float64 {
	out := make([]float64, n)
	for _, s := range series {
		if s.Down != down {
			continue
		}
		for i := 0; i < n && i < len(s.Values); i++ {
			out[i] += max(s.Values[i], 0)
		}
	}
	return out
}

// secondLargest returns the second largest of vs (0 with fewer than two).
func secondLargest(vs []float64) float64 {
	first, second := 0.0, 0.0
	for _, v := range vs {
		switch {
		case v > first:
			first, second = v, first
		case v > second:
			second = v
		}
	}
	return second
}

// Lines is a chart of one line per series.
type Lines struct {
	Title  string
	Labels []string // one per point
	Series []Series
	Width  int
	Height int
	Format Format
	Empty  string
}

// SVG draws the chart.
func (c Lines) SVG() template.HTML {
	var up float64
	for _, s := range c.Series {
		for _, v := range s.Values {
			up = max(up, v)
		}
	}
	width := c.Width
	if width <= 0 {
		width = 720
	}
	items, lh := legend(c.Series, 52, float64(width)-12)
	f := newFrame(width, c.Height, lh, up, 0, c.Format)
	var b strings.Builder
	open(&b, f.w, f.h, c.Title)
	drawLegend(&b, items, 0)
	f.grid(&b)
	if len(c.Labels) == 0 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13" fill="%s">%s</text>`,
			(f.left+f.right)/2, (f.top+f.base)/2, mutedInk, esc(c.Empty))
		b.WriteString("</svg>")
		return template.HTML(b.String())
	}
	slot := (f.right - f.left) / float64(len(c.Labels))
	x := func(i int) float64 { return f.left + slot*(float64(i)+0.5) }
	for _, s := range c.Series {
		var pts []string
		for i, v := range s.Values {
			if i < len(c.Labels) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), f.y(v)))
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"/>`, strings.Join(pts, " "), attr(s.Color))
		}
		for i, v := range s.Values {
			if i < len(c.Labels) {
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s · %s : %s</title></circle>`,
					x(i), f.y(v), attr(s.Color), esc(c.Labels[i]), esc(s.Name), esc(f.format(v)))
			}
		}
	}
	f.xLabels(&b, c.Labels, x)
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// Part is one share of a Share bar.
type Part struct {
	Name  string
	Color string
	Value int
}

// Share is one horizontal bar split between parts in proportion to their
// values: where every recipient of a campaign ended up.
type Share struct {
	Title  string
	Parts  []Part
	Width  int // default 720
	Format Format
}

// SVG draws the bar, with a legend under it giving each part's value.
func (c Share) SVG() template.HTML {
	w := float64(c.Width)
	if w <= 0 {
		w = 720
	}
	format := c.Format.or()
	total := 0
	for _, p := range c.Parts {
		total += max(p.Value, 0)
	}
	const barH = 26.0
	texts, colors := make([]string, len(c.Parts)), make([]string, len(c.Parts))
	for i, p := range c.Parts {
		texts[i], colors[i] = p.Name+" "+format(float64(p.Value)), p.Color
	}
	items, lh := layout(texts, colors, 0, w)
	var b strings.Builder
	open(&b, w, barH+14+lh+4, c.Title)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.1f" height="%.1f" rx="5" fill="%s"/>`, w, barH, lineColor)
	x := 0.0
	for _, p := range c.Parts {
		if p.Value <= 0 || total == 0 {
			continue
		}
		pw := w * float64(p.Value) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.2f" y="0" width="%.2f" height="%.1f" fill="%s"><title>%s : %s</title></rect>`,
			x, max(pw, 1.5), barH, attr(p.Color), esc(p.Name), esc(format(float64(p.Value))))
		x += pw
	}
	drawLegend(&b, items, barH+14-10)
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// esc escapes text for an SVG text node.
func esc(s string) string { return html.EscapeString(s) }

// attr escapes a value for an SVG attribute in double quotes.
func attr(s string) string { return html.EscapeString(s) }

package chart

import (
	"strings"
	"testing"
)

func TestEscapes(t *testing.T) {
	t.Parallel()
	evil := `<script>alert("x")</script>`
	for name, svg := range map[string]string{
		"bars":  string(Bars{Title: evil, Labels: []string{evil}, Series: []Series{{Name: evil, Color: "#000", Values: []float64{3}}}}.SVG()),
		"lines": string(Lines{Title: evil, Labels: []string{evil, "b"}, Series: []Series{{Name: evil, Color: "#000", Values: []float64{1, 2}}}}.SVG()),
		"share": string(Share{Title: evil, Parts: []Part{{Name: evil, Color: `"onload="x`, Value: 2}}}.SVG()),
	} {
		if strings.Contains(svg, "<script") || strings.Contains(svg, `"onload="`) {
			t.Errorf("%s: unescaped input:\n%s", name, svg)
		}
		if !strings.HasPrefix(svg, "<svg ") || !strings.HasSuffix(svg, "</svg>") || strings.Contains(svg, "style=") {
			t.Errorf("%s: not a self-contained SVG without inline style:\n%s", name, svg)
		}
	}
}

func TestBars(t *testing.T) {
	t.Parallel()
	svg := string(Bars{Labels: []string{"T1", "T2", "T3"}, Series: []Series{
		{Name: "new", Color: "#0a0", Values: []float64{2008, 130, 120}},
		{Name: "left", Color: "#a00", Values: []float64{9, 19, 12}, Down: true},
	}}.SVG())
	// The import quarter is cut, its value written above it; the axis
	// reads round numbers, below zero too.
	for _, want := range []string{">2008<", "T1 · new : 2008", "T2 · left : 19", ">−20<", ">200<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("bars lack %q:\n%s", want, svg)
		}
	}
	if empty := string(Bars{Empty: "Rien encore"}.SVG()); !strings.Contains(empty, "Rien encore") {
		t.Errorf("empty chart: %s", empty)
	}
}

func TestNice(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{0: 0, 0.4: 0.5, 3: 5, 10: 10, 11: 20, 2008: 5000, 140: 200} {
		if got := nice(in); got != want {
			t.Errorf("nice(%v) = %v, want %v", in, got, want)
		}
	}
}

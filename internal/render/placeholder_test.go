package render

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example edition's images stand in for the real edition's photos and
// infographic, which are not ours to publish. They are drawn here rather than
// by hand so that anyone can redraw them:
//
//	go test ./internal/render -run TestPlaceholders -placeholders
var placeholders = flag.Bool("placeholders", false, "redraw the example edition's placeholder images")

// exampleDir is the example edition, relative to this package.
const exampleDir = "../../docs/examples/2020-edition-10-ans"

// placeholder is one image of the example and how to draw it.
type placeholder struct {
	file string
	w, h int
	draw func(c *canvas)
}

func examplePlaceholders() []placeholder {
	primary := hexRGBA("#0f5c6e")
	accent := hexRGBA("#d9672b")
	return []placeholder{
		{"logo-mics34.png", 360, 96, func(c *canvas) {
			c.fill(primary)
			c.circle(48, 48, 40, accent)
			c.text(25, 34, 4, "34", color.RGBA{255, 255, 255, 255})
			c.text(108, 14, 6, "MICS 34", color.RGBA{255, 255, 255, 255})
			c.text(110, 64, 3, "CLAUSE SOCIALE", hexRGBA("#bfe0e8"))
		}},
		{"infographie-2019.png", 1072, 1240, func(c *canvas) {
			c.fill(hexRGBA("#f3f7f8"))
			c.rect(0, 0, 1072, 200, primary)
			c.text(64, 56, 10, "INFOGRAPHIE", color.RGBA{255, 255, 255, 255})
			c.text(64, 142, 5, "LA MICS 34 EN 2019", hexRGBA("#f6c7ab"))
			labels := []string{"ATELIERS TECHNIQUES", "COMMUNICATION", "OBSERVATOIRE", "PARTENAIRES"}
			bars := []float64{0.82, 0.64, 0.48, 0.93}
			for i, l := range labels {
				y := 260 + i*170
				c.circle(120, y+60, 52, []color.RGBA{accent, primary, accent, primary}[i])
				c.circle(120, y+60, 24, color.RGBA{255, 255, 255, 255})
				c.text(210, y+10, 4, l, hexRGBA("#2b3138"))
				c.rect(210, y+66, 800, 36, hexRGBA("#dbe6ea"))
				c.rect(210, y+66, int(800*bars[i]), 36, []color.RGBA{primary, accent, primary, accent}[i])
			}
			c.rect(0, 1000, 1072, 240, hexRGBA("#e3ecef"))
			for i := 0; i < 3; i++ {
				cx := 220 + i*316
				c.ring(cx, 1100, 64, 18, hexRGBA("#c9d7dc"))
				c.arc(cx, 1100, 64, 18, []float64{0.7, 0.45, 0.85}[i], []color.RGBA{primary, accent, primary}[i])
			}
			c.text(330, 1196, 3, "IMAGE D'EXEMPLE", hexRGBA("#5b6770"))
		}},
		{"forum-achat-public.png", 1072, 600, func(c *canvas) {
			c.gradient(hexRGBA("#dfeef2"), hexRGBA("#9cc7d3"))
			c.rect(0, 430, 1072, 170, hexRGBA("#5d8f9c"))
			c.rect(120, 150, 832, 200, hexRGBA("#ffffff"))
			c.rect(120, 150, 832, 36, primary)
			c.text(300, 232, 6, "FORUM ACHAT", primary)
			c.text(300, 290, 6, "PUBLIC", accent)
			for i := 0; i < 9; i++ {
				x := 90 + i*112
				c.circle(x, 420, 30, []color.RGBA{primary, accent, hexRGBA("#2b3138")}[i%3])
				c.rect(x-40, 450, 80, 150, []color.RGBA{primary, accent, hexRGBA("#2b3138")}[i%3])
			}
			c.label(1072, 40, "PHOTO D'EXEMPLE")
		}},
		{"chantier-passerelle.png", 1072, 600, func(c *canvas) {
			c.gradient(hexRGBA("#fbe9dc"), hexRGBA("#f2c19e"))
			c.hills(hexRGBA("#7f9c5a"), 380, 60)
			c.hills(hexRGBA("#5d7d3c"), 450, 40)
			c.rect(260, 300, 560, 24, hexRGBA("#8a5a33"))
			for x := 280; x <= 800; x += 65 {
				c.rect(x, 324, 14, 110, hexRGBA("#6e4526"))
			}
			for i := 0; i < 5; i++ {
				x := 340 + i*100
				c.circle(x, 240, 20, accent)
				c.rect(x-22, 262, 44, 40, primary)
			}
			c.label(1072, 40, "PHOTO D'EXEMPLE")
		}},
	}
}

func TestPlaceholders(t *testing.T) {
	for _, p := range examplePlaceholders() {
		path := filepath.Join(exampleDir, p.file)
		if *placeholders {
			c := newCanvas(p.w, p.h)
			p.draw(c)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := encodePNG(f, c); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("%v (redraw with -placeholders)", err)
		}
		cfg, format, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if format != "png" || cfg.Width != p.w || cfg.Height != p.h {
			t.Errorf("%s = %s %dx%d, want png %dx%d", p.file, format, cfg.Width, cfg.Height, p.w, p.h)
		}
	}
}

func encodePNG(w io.Writer, c *canvas) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, c.img)
}

// canvas is a tiny drawing surface: rectangles, circles and a 5×7 bitmap
// font, enough for recognisable placeholders without a font dependency.
type canvas struct {
	img *image.RGBA
}

func newCanvas(w, h int) *canvas { return &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h))} }

func hexRGBA(s string) color.RGBA {
	var r, g, b uint8
	for i, p := range []*uint8{&r, &g, &b} {
		v := 0
		for _, ch := range s[1+2*i : 3+2*i] {
			v = v*16 + strings.IndexRune("0123456789abcdef", ch)
		}
		*p = uint8(v)
	}
	return color.RGBA{r, g, b, 255}
}

func (c *canvas) fill(col color.RGBA) {
	b := c.img.Bounds()
	c.rect(0, 0, b.Dx(), b.Dy(), col)
}

func (c *canvas) rect(x, y, w, h int, col color.RGBA) {
	for j := y; j < y+h; j++ {
		for i := x; i < x+w; i++ {
			if image.Pt(i, j).In(c.img.Bounds()) {
				c.img.SetRGBA(i, j, col)
			}
		}
	}
}

func (c *canvas) circle(cx, cy, r int, col color.RGBA) {
	for j := cy - r; j <= cy+r; j++ {
		for i := cx - r; i <= cx+r; i++ {
			if (i-cx)*(i-cx)+(j-cy)*(j-cy) <= r*r && image.Pt(i, j).In(c.img.Bounds()) {
				c.img.SetRGBA(i, j, col)
			}
		}
	}
}

// ring draws a circle outline of thickness t; arc draws the fraction f of it,
// clockwise from the top, as in a donut chart.
func (c *canvas) ring(cx, cy, r, t int, col color.RGBA) { c.arc(cx, cy, r, t, 1, col) }

func (c *canvas) arc(cx, cy, r, t int, f float64, col color.RGBA) {
	for j := cy - r; j <= cy+r; j++ {
		for i := cx - r; i <= cx+r; i++ {
			d2 := (i-cx)*(i-cx) + (j-cy)*(j-cy)
			if d2 > r*r || d2 < (r-t)*(r-t) {
				continue
			}
			a := math.Atan2(float64(i-cx), float64(cy-j)) / (2 * math.Pi)
			if a < 0 {
				a++
			}
			if a <= f {
				c.img.SetRGBA(i, j, col)
			}
		}
	}
}

func (c *canvas) gradient(top, bottom color.RGBA) {
	b := c.img.Bounds()
	for j := 0; j < b.Dy(); j++ {
		t := float64(j) / float64(b.Dy()-1)
		mix := func(a, b uint8) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }
		c.rect(0, j, b.Dx(), 1, color.RGBA{mix(top.R, bottom.R), mix(top.G, bottom.G), mix(top.B, bottom.B), 255})
	}
}

func (c *canvas) hills(col color.RGBA, base, amp int) {
	b := c.img.Bounds()
	for i := 0; i < b.Dx(); i++ {
		top := base - int(float64(amp)*math.Sin(float64(i)/150))
		c.rect(i, top, 1, b.Dy()-top, col)
	}
}

// label writes s in a white pill at the bottom right of a w-wide image.
func (c *canvas) label(w, margin int, s string) {
	const scale = 3
	tw := len(s) * 6 * scale
	x, y := w-margin-tw-24, c.img.Bounds().Dy()-margin-21-24
	c.rect(x, y, tw+24, 21+24, color.RGBA{255, 255, 255, 255})
	c.text(x+12, y+12, scale, s, hexRGBA("#2b3138"))
}

// text writes s in the 5×7 font, each dot scale pixels wide.
func (c *canvas) text(x, y, scale int, s string, col color.RGBA) {
	for _, r := range s {
		if g, ok := glyphs()[r]; ok {
			for row, line := range g {
				for dot, ch := range line {
					if ch == '#' {
						c.rect(x+dot*scale, y+row*scale, scale, scale, col)
					}
				}
			}
		}
		x += 6 * scale
	}
}

// glyphs is a 5×7 font of capitals, digits and a little punctuation.
func glyphs() map[rune][7]string {
	return map[rune][7]string{
		'A':  {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
		'B':  {"####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."},
		'C':  {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
		'D':  {"####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."},
		'E':  {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
		'F':  {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
		'G':  {".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"},
		'H':  {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
		'I':  {".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."},
		'J':  {"..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."},
		'K':  {"#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"},
		'L':  {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
		'M':  {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
		'N':  {"#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"},
		'O':  {".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
		'P':  {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
		'Q':  {".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"},
		'R':  {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
		'S':  {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
		'T':  {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
		'U':  {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
		'V':  {"#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."},
		'W':  {"#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."},
		'X':  {"#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"},
		'Y':  {"#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."},
		'Z':  {"#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"},
		'0':  {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."},
		'1':  {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."},
		'2':  {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"},
		'3':  {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."},
		'4':  {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."},
		'5':  {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."},
		'6':  {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."},
		'7':  {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."},
		'8':  {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."},
		'9':  {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."},
		'-':  {".....", ".....", ".....", "#####", ".....", ".....", "....."},
		'\'': {"..#..", "..#..", ".#...", ".....", ".....", ".....", "....."},
		':':  {".....", "..#..", "..#..", ".....", "..#..", "..#..", "....."},
		'.':  {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."},
		' ':  {".....", ".....", ".....", ".....", ".....", ".....", "....."},
	}
}

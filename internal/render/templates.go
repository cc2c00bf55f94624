package render

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/yuin/goldmark"

	"bulletin/templates"
)

// The files of a template folder. A folder may hold either or both; the
// embedded default stands in for a missing one.
const (
	HTMLFile = "edition.html.tmpl"
	TextFile = "edition.txt.tmpl"
)

// Templates is a loaded layout (HTML and plain text) with the organisation's
// options. It is safe for concurrent use.
type Templates struct {
	opts Options
	html *htmltemplate.Template
	text *texttemplate.Template
	md   goldmark.Markdown

	htmlSource, textSource string // where each came from, for messages
}

// Load reads the layout from dir (such as "templates"), each file of it
// falling back on the embedded default when dir is empty or lacks it. Files
// are read at each call, so staff edits take effect at the next Load without
// rebuilding. Errors name the file and line.
func Load(dir string, opts Options) (*Templates, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &Templates{opts: opts, md: newMarkdown()}
	htmlSrc, htmlName, err := readTemplate(dir, HTMLFile)
	if err != nil {
		return nil, err
	}
	textSrc, textName, err := readTemplate(dir, TextFile)
	if err != nil {
		return nil, err
	}
	t.htmlSource, t.textSource = htmlName, textName
	if t.html, err = htmltemplate.New(htmlName).Funcs(htmlFuncs()).Parse(htmlSrc); err != nil {
		return nil, templateError(err)
	}
	if t.text, err = texttemplate.New(textName).Funcs(textFuncs()).Parse(textSrc); err != nil {
		return nil, templateError(err)
	}
	return t, nil
}

// readTemplate returns a template file's text and the name it is known by:
// its path on disk, or "embedded:NAME" for the built-in default.
func readTemplate(dir, name string) (src, source string, err error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("render: %w", err)
		}
	}
	b, err := templates.FS.ReadFile(name)
	if err != nil {
		return "", "", fmt.Errorf("render: embedded %s: %w", name, err)
	}
	return string(b), "embedded:" + name, nil
}

// Sources returns where the HTML and text layouts were read from: a path, or
// "embedded:…" for a built-in default.
func (t *Templates) Sources() (html, text string) { return t.htmlSource, t.textSource }

// Options returns the options the templates were loaded with, defaults
// filled in.
func (t *Templates) Options() Options { return t.opts }

// templateError strips Go's "template: " prefix so that the message starts
// with file:line like every other error Bulletin prints.
func templateError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "template: "))
}

// htmlFuncs are the functions the HTML layout may call.
func htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		// mso wraps markup in a conditional comment that only Outlook on
		// Windows reads: the fixed-width "ghost tables" that keep its Word
		// engine at 600 px. html/template strips comments from templates,
		// hence a function.
		"mso": func(markup string) htmltemplate.HTML {
			return htmltemplate.HTML("<!--[if mso]>" + markup + "<![endif]-->")
		},
		"tint":    tint,
		"frDate":  frDate,
		"frMonth": frMonth,
		"upper":   strings.ToUpper,
		"year":    func(t time.Time) int { return t.Year() },
	}
}

// tint mixes a #rrggbb colour with white: tint "#0f5c6e" 0.9 is a pale wash
// of it, for box backgrounds that follow the organisation's colours.
func tint(hex string, amount float64) (htmltemplate.CSS, error) {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 6 {
		return "", fmt.Errorf("tint: %q is not a #rrggbb colour", hex)
	}
	amount = min(max(amount, 0), 1)
	mix := func(c uint64) uint64 { return c + uint64(math.Round(float64(255-c)*amount)) }
	r, g, b := mix(v>>16&0xff), mix(v>>8&0xff), mix(v&0xff)
	return htmltemplate.CSS(fmt.Sprintf("#%02x%02x%02x", r, g, b)), nil
}

// textFuncs are the functions the plain-text layout may call.
func textFuncs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"h1": func(s string) string { return underline(s, '=') },
		"h2": func(s string) string { return underline(s, '-') },
		"rule": func(c string) string {
			if c == "" {
				c = "-"
			}
			return strings.Repeat(c, TextWidth/len([]rune(c)))
		},
		"frDate":  frDate,
		"frMonth": frMonth,
		"upper":   strings.ToUpper,
		"year":    func(t time.Time) int { return t.Year() },
	}
}

// frDate writes a date the French way: "20 mars 2020", "1er avril 2020".
func frDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + "\u00a0" + frMonth(t)
}

// frMonth writes "mars 2020".
func frMonth(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	months := [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	return months[t.Month()-1] + "\u00a0" + fmt.Sprint(t.Year())
}

package edition

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"bulletin/internal/i18n"
)

// maxErrors bounds the list Parse returns: past it, the rest is usually
// fallout from the first mistakes.
const maxErrors = 20

// ParseFile reads and parses the edition file at path. Dir is set to the
// file's folder.
func ParseFile(path string) (*Edition, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("edition: %w", err)
	}
	return Parse(path, src)
}

// Parse parses src, naming it name in errors (usually its path). The
// returned error, if any, is an ErrorList of file:line problems. Dir is the
// folder of name.
func Parse(name string, src []byte) (*Edition, error) {
	p := &parser{ed: &Edition{Path: name, Dir: filepath.Dir(name), Source: src}}
	p.parse()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return p.ed, nil
}

type parser struct {
	ed   *Edition
	errs ErrorList
}

// errorf records the problem key, a catalogue message with args, at line.
func (p *parser) errorf(line int, key string, args ...any) {
	p.report(line, i18n.M(key, args...))
}

func (p *parser) report(line int, msg i18n.Message) {
	if len(p.errs) >= maxErrors {
		return
	}
	p.errs = append(p.errs, &Error{File: p.ed.Path, Line: line, Msg: msg})
}

func (p *parser) parse() {
	src := p.ed.Source
	if !utf8.Valid(src) {
		p.errorf(0, "edition.err.utf8")
		return
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // a BOM from Windows editors
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != "---" {
		p.errorf(1, "edition.err.no_front")
		return
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if l := strings.TrimRight(lines[i], " \t"); l == "---" || l == "..." {
			end = i
			break
		}
	}
	if end < 0 {
		p.errorf(1, "edition.err.front_unclosed")
		return
	}
	p.frontMatter(strings.Join(lines[1:end], "\n"), 2)
	p.ed.BodyLine = end + 2
	p.body(lines[end+1:], end+2)
	if p.ed.Slug == "" {
		p.ed.Slug = DefaultSlug(p.ed.Path)
	}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// frontMatter decodes the YAML between the --- lines; first is the file line
// of its first line, so that YAML's own line numbers can be shifted.
func (p *parser) frontMatter(fm string, first int) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(fm), &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := first
		if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
			n, _ := strconv.Atoi(msg[m[2]:m[3]])
			line = first + n - 1
			msg = strings.TrimPrefix(msg[:m[0]]+msg[m[1]:], ": ")
		}
		key := "edition.err.front_yaml"
		if strings.Contains(msg, "mapping values are not allowed") {
			// French typography puts " : " in titles, which YAML reads as
			// a nested key unless the value is quoted.
			key = "edition.err.front_yaml_colon"
		}
		p.errorf(line, key, msg)
		return
	}
	if len(doc.Content) == 0 {
		p.errorf(first, "edition.err.front_empty")
		return
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		p.errorf(first+m.Line-1, "edition.err.front_not_map")
		return
	}
	seen := map[string]int{}
	ed := p.ed
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		line := first + k.Line - 1
		if prev, dup := seen[k.Value]; dup {
			p.errorf(line, "edition.err.front_twice", k.Value, strconv.Itoa(prev))
			continue
		}
		seen[k.Value] = line
		switch k.Value {
		case "title":
			ed.Title = p.str(v, k.Value, line)
		case "subject":
			ed.Subject = p.str(v, k.Value, line)
		case "preheader":
			ed.Preheader = p.str(v, k.Value, line)
		case "quarter":
			ed.Quarter = p.str(v, k.Value, line)
		case "slug":
			s := p.str(v, k.Value, line)
			if s != "" && Slugify(s) != s {
				p.errorf(line, "edition.err.front_slug", s, Slugify(s))
				continue
			}
			ed.Slug = s
		case "number":
			n, err := strconv.Atoi(p.str(v, k.Value, line))
			if err != nil || n < 0 {
				p.errorf(line, "edition.err.front_number", v.Value)
				continue
			}
			ed.Number = n
		case "date":
			s := p.str(v, k.Value, line)
			d, err := time.Parse("2006-01-02", s)
			if err != nil {
				p.errorf(line, "edition.err.front_date", s)
				continue
			}
			ed.Date = d
		case "lists":
			ed.Lists = p.strs(v, line)
		default:
			p.errorf(line, "edition.err.front_unknown", k.Value)
		}
	}
	ed.FrontLines = seen
	for _, req := range []string{"title", "subject", "date"} {
		if _, ok := seen[req]; !ok {
			p.errorf(first-1, "edition.err.front_missing", req)
		}
	}
	if _, ok := seen["title"]; ok && ed.Title == "" {
		p.errorf(seen["title"], "edition.err.front_title_empty")
	}
	if _, ok := seen["subject"]; ok && ed.Subject == "" {
		p.errorf(seen["subject"], "edition.err.front_subject_empty")
	}
}

func (p *parser) str(v *yaml.Node, key string, line int) string {
	if v.Kind != yaml.ScalarNode {
		p.errorf(line, "edition.err.front_single", key)
		return ""
	}
	s := strings.TrimSpace(v.Value)
	if err := SingleLine(s); err != nil {
		p.errorf(line, "edition.err.front_value", key, i18n.MessageOf(err))
	}
	return s
}

// SingleLine returns an error naming the first line break or other control
// character in s. Front matter values end up in mail headers (the subject)
// or next to them (the preheader), where a line break would either be
// refused by the relay at the first message, pausing the campaign, or start
// a header of its own; so they are refused when the edition is checked.
func SingleLine(s string) error {
	for i, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			what := i18n.Key("edition.err.what_control")
			switch r {
			case '\n', '\r', '\u0085', '\u2028', '\u2029':
				what = "edition.err.what_line_break"
			case '\t':
				what = "edition.err.what_tab"
			}
			return i18n.Errorf("edition.err.single_line", what, fmt.Sprintf("%U", r), strconv.Itoa(utf8.RuneCountInString(s[:i])+1))
		}
	}
	return nil
}

// strs reads lists: either "lists: [A, B]", a YAML list, or one name.
func (p *parser) strs(v *yaml.Node, line int) []string {
	switch v.Kind {
	case yaml.ScalarNode:
		if s := p.str(v, "lists", line); s != "" {
			return []string{s}
		}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode || strings.TrimSpace(it.Value) == "" {
				p.errorf(line, "edition.err.lists_name")
				continue
			}
			if err := SingleLine(strings.TrimSpace(it.Value)); err != nil {
				p.errorf(line, "edition.err.lists_value", strconv.Quote(it.Value), i18n.MessageOf(err))
				continue
			}
			out = append(out, strings.TrimSpace(it.Value))
		}
		return out
	}
	p.errorf(line, "edition.err.lists_shape")
	return nil
}

var (
	openFence  = regexp.MustCompile(`^ {0,3}:{3,}\s*([A-Za-z][\w-]*)\s*(.*)$`)
	closeFence = regexp.MustCompile(`^ {0,3}:{3,}\s*$`)
	heading    = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	codeFence  = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
)

// frame is one open block while scanning the body.
type frame struct {
	block *Block
	spec  spec
	lines []string // Markdown gathered since the last flush
	first int      // file line of lines[0]
	entry *Entry   // the timeline or qa entry being filled
}

func (f *frame) add(line string, n int) {
	if len(f.lines) == 0 {
		if strings.TrimSpace(line) == "" {
			return // leading blank lines carry nothing
		}
		f.first = n
	}
	f.lines = append(f.lines, line)
}

// take returns the gathered Markdown, trimmed of trailing blank lines, and
// resets the frame.
func (f *frame) take() (string, int) {
	s := strings.TrimRight(strings.Join(f.lines, "\n"), " \t\n")
	first := f.first
	f.lines, f.first = f.lines[:0], 0
	return s, first
}

// body scans the Markdown body line by line, first being the file line of
// lines[0].
func (p *parser) body(lines []string, first int) {
	root := &frame{block: &Block{}, spec: spec{children: []Kind{Edito, Notice, Article, Timeline, Image, QA, Button}}}
	stack := []*frame{root}
	var fence string // the open code fence, if any: no block syntax inside
	for i, line := range lines {
		n := first + i
		top := stack[len(stack)-1]
		if fence != "" {
			top.add(line, n)
			if m := codeFence.FindStringSubmatch(line); m != nil && m[1][0] == fence[0] && len(m[1]) >= len(fence) && strings.TrimSpace(line[len(m[0]):]) == "" {
				fence = ""
			}
			continue
		}
		if m := codeFence.FindStringSubmatch(line); m != nil {
			fence = m[1]
			p.addLine(top, line, n)
			continue
		}
		if closeFence.MatchString(line) {
			if len(stack) == 1 {
				p.errorf(n, "edition.err.close_none", ":::", ":::")
				continue
			}
			p.close(top, n)
			stack = stack[:len(stack)-1]
			parent := stack[len(stack)-1]
			parent.block.Children = append(parent.block.Children, top.block)
			continue
		}
		if m := openFence.FindStringSubmatch(line); m != nil {
			kind := Kind(strings.ToLower(m[1]))
			sp, ok := specFor(kind)
			if !ok {
				p.errorf(n, "edition.err.unknown_block", m[1], blockNames())
				// Open it anyway so that its closing fence does not close
				// the enclosing block and cascade into more errors.
				sp = spec{body: bodyText}
			} else if !containsKind(top.spec.children, kind) {
				p.errorf(n, "edition.err.inside", string(kind), describe(top))
			}
			b := &Block{Kind: kind, Line: n}
			if attrs, err := parseAttrs(m[2]); err != nil {
				p.errorf(n, "edition.err.block_attrs", string(kind), i18n.MessageOf(err))
			} else if ok {
				if err := setAttrs(b, sp, attrs); err != nil {
					p.report(n, i18n.MessageOf(err))
				}
			}
			p.flush(top)
			stack = append(stack, &frame{block: b, spec: sp})
			continue
		}
		p.addLine(top, line, n)
	}
	for len(stack) > 1 {
		top := stack[len(stack)-1]
		p.errorf(top.block.Line, "edition.err.unclosed", string(top.block.Kind), ":::")
		stack = stack[:len(stack)-1]
	}
	p.flush(root)
	p.ed.Blocks = root.block.Children
}

// describe names the block a frame holds, for "cannot go inside" errors.
func describe(f *frame) i18n.Message {
	if f.block.Kind == "" {
		return i18n.M("edition.err.the_body")
	}
	return i18n.M("edition.err.the_block", string(f.block.Kind), strconv.Itoa(f.block.Line))
}

// addLine adds a line of Markdown to the open block, treating headings that
// mean something there: sections at the top level, entries in timelines and
// Q&As.
func (p *parser) addLine(f *frame, line string, n int) {
	m := heading.FindStringSubmatch(line)
	switch {
	case m != nil && f.block.Kind == "" && len(m[1]) == 1:
		p.flush(f)
		title := strings.TrimSpace(m[2])
		if title == "" {
			p.errorf(n, "edition.err.section_empty")
		}
		f.block.Children = append(f.block.Children, &Block{Kind: Section, Line: n, Title: title})
		return
	case f.spec.body == bodyEntries && m != nil:
		p.flushEntry(f)
		e := &Entry{Line: n, Title: strings.TrimSpace(m[2])}
		if f.block.Kind == Timeline {
			e.Date, e.Title = splitDate(e.Title)
			if e.Date == "" {
				p.errorf(n, "edition.err.timeline_date", "### 2010 : titre")
			}
		} else if e.Title == "" {
			p.errorf(n, "edition.err.qa_empty")
		}
		f.entry = e
		return
	case f.spec.body == bodyEntries && f.entry == nil && strings.TrimSpace(line) != "":
		p.errorf(n, "edition.err.before_entry", string(f.block.Kind), f.spec.help)
		return
	}
	f.add(line, n)
}

// splitDate splits a timeline heading "2010 : Création …" into its date and
// title. The separator is a colon (with the space French typography puts
// before it, breaking or not), a dash or a bar; a heading with none of them
// is only a date.
func splitDate(h string) (date, title string) {
	for _, sep := range []string{" : ", "\u00a0: ", "\u202f: ", " — ", " – ", " - ", " | "} {
		if i := strings.Index(h, sep); i > 0 {
			return strings.TrimSpace(h[:i]), strings.TrimSpace(h[i+len(sep):])
		}
	}
	return strings.TrimSpace(h), ""
}

// flush turns the Markdown gathered in f into a child block (or into the
// current entry of a timeline or qa).
func (p *parser) flush(f *frame) {
	if f.spec.body == bodyEntries {
		p.flushEntry(f)
		return
	}
	if f.spec.body == bodyText {
		return // kept whole until the block closes
	}
	text, line := f.take()
	if text == "" {
		return
	}
	f.block.Children = append(f.block.Children, &Block{Kind: Markdown, Line: line, Text: text, TextLine: line})
}

func (p *parser) flushEntry(f *frame) {
	text, line := f.take()
	if f.entry == nil {
		return
	}
	f.entry.Text, f.entry.TextLine = text, line
	if line == 0 {
		f.entry.TextLine = f.entry.Line + 1
	}
	f.block.Entries = append(f.block.Entries, f.entry)
	f.entry = nil
}

// close finishes the block of f at its closing fence on line n.
func (p *parser) close(f *frame, n int) {
	b := f.block
	b.EndLine = n
	switch f.spec.body {
	case bodyText:
		b.Text, b.TextLine = f.take()
		if b.TextLine == 0 {
			b.TextLine = b.Line + 1
		}
		if f.spec.needBody && b.Text == "" {
			p.errorf(b.Line, "edition.err.block_empty", string(b.Kind), f.spec.help)
		}
		return
	case bodyEntries:
		p.flushEntry(f)
		if len(b.Entries) == 0 {
			p.errorf(b.Line, "edition.err.no_entries", string(b.Kind), f.spec.help)
		}
		return
	}
	p.flush(f)
	if f.spec.needBody && len(b.Children) == 0 {
		p.errorf(b.Line, "edition.err.text_empty", string(b.Kind), ":::", strconv.Itoa(n))
	}
}

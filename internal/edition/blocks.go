package edition

import (
	"strconv"
	"strings"

	"bulletin/internal/i18n"
)

// body says what may go between a block's fences.
type body int

const (
	bodyMarkdown body = iota // prose and nested blocks
	bodyEntries              // entries, each started by a heading
	bodyText                 // prose only, no nested block (caption, label)
)

// spec is what one kind of block accepts.
type spec struct {
	attrs    []string // accepted attribute names
	required []string // attributes that must be present and non-empty
	body     body
	needBody bool         // the body must not be empty
	children []Kind       // kinds that may be nested inside
	help     i18n.Message // how to write it, quoted in errors
}

// specFor returns the rules of a kind written with "::: kind". It is a
// function rather than a map so that the rules cannot be changed at run time.
func specFor(k Kind) (spec, bool) {
	switch k {
	case Edito:
		return spec{
			attrs:    []string{"title", "signature", "role"},
			required: []string{"signature"},
			needBody: true,
			children: []Kind{Image, Button, Notice},
			help:     i18n.M("edition.help.edito"),
		}, true
	case Notice:
		return spec{
			attrs:    []string{"title"},
			needBody: true,
			children: []Kind{Image, Button},
			help:     i18n.M("edition.help.notice"),
		}, true
	case Article:
		return spec{
			attrs:    []string{"title", "author"},
			required: []string{"title"},
			needBody: true,
			children: []Kind{Timeline, Image, Button, Notice, QA},
			help:     i18n.M("edition.help.article"),
		}, true
	case Timeline:
		return spec{
			attrs:    []string{"title"},
			body:     bodyEntries,
			needBody: true,
			help:     i18n.M("edition.help.timeline", "::: timeline", "### 2010 : titre"),
		}, true
	case QA:
		return spec{
			attrs:    []string{"title"},
			body:     bodyEntries,
			needBody: true,
			help:     i18n.M("edition.help.qa", `::: qa title="…"`, "### Question ?"),
		}, true
	case Image:
		return spec{
			attrs:    []string{"src", "alt", "link", "width"},
			required: []string{"src"},
			body:     bodyText,
			help:     i18n.M("edition.help.image"),
		}, true
	case Button:
		return spec{
			attrs:    []string{"href"},
			required: []string{"href"},
			body:     bodyText,
			needBody: true,
			help:     i18n.M("edition.help.button"),
		}, true
	}
	return spec{}, false
}

// blockNames lists the kinds that can be written with ":::", for error
// messages.
func blockNames() string {
	return "edito, notice, article, timeline, image, qa, button"
}

// setAttrs stores the attributes of an opening line in b, checking them
// against the kind's spec.
func setAttrs(b *Block, sp spec, attrs []attr) error {
	for _, a := range attrs {
		if !contains(sp.attrs, a.key) {
			return i18n.Errorf("edition.err.attr_unknown", string(b.Kind), a.key, strings.Join(sp.attrs, ", "))
		}
		switch a.key {
		case "title":
			b.Title = a.value
		case "author":
			b.Author = a.value
		case "signature":
			b.Signature = a.value
		case "role":
			b.Role = a.value
		case "src":
			b.Src = a.value
		case "alt":
			b.Alt = a.value
		case "link":
			b.Link = a.value
		case "href":
			b.Href = a.value
		case "width":
			w, err := strconv.Atoi(strings.TrimSuffix(a.value, "px"))
			if err != nil || w <= 0 || w > 600 {
				return i18n.Errorf("edition.err.width", string(b.Kind), a.value)
			}
			b.Width = w
		}
	}
	for _, r := range sp.required {
		if strings.TrimSpace(b.attr(r)) == "" {
			return i18n.Errorf("edition.err.attr_missing", string(b.Kind), r, sp.help)
		}
	}
	return nil
}

// attr returns the value of a named attribute.
func (b *Block) attr(name string) string {
	switch name {
	case "title":
		return b.Title
	case "author":
		return b.Author
	case "signature":
		return b.Signature
	case "role":
		return b.Role
	case "src":
		return b.Src
	case "alt":
		return b.Alt
	case "link":
		return b.Link
	case "href":
		return b.Href
	case "width":
		if b.Width == 0 {
			return ""
		}
		return strconv.Itoa(b.Width)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsKind(list []Kind, k Kind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

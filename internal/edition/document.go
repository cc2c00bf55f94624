package edition

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Doc is an edition as the console's visual editor edits it: the front
// matter as form fields and the body as an Editor.js document (the blocks
// are listed in docs/examples/2020-edition-10-ans/README.md). The browser
// never sees Markdown: ToDoc and Doc.Source are the only converters, in
// Go, so that the edition file stays the one format.
type Doc struct {
	Front    Front  `json:"front"`
	Document Blocks `json:"document"`
}

// Front is the front matter as the editor's form holds it.
type Front struct {
	Title     string   `json:"title"`
	Number    Int      `json:"number"`
	Quarter   string   `json:"quarter"`
	Date      string   `json:"date"` // YYYY-MM-DD
	Subject   string   `json:"subject"`
	Preheader string   `json:"preheader"`
	Lists     []string `json:"lists"`
	Slug      string   `json:"slug"`
}

// Blocks is an Editor.js OutputData: the body of the edition, or the body
// of a card (an edito's text, a timeline entry's text).
type Blocks struct {
	Time    int64      `json:"time,omitempty"`
	Version string     `json:"version,omitempty"`
	Blocks  []DocBlock `json:"blocks"`
}

// The block types of the editor's document.
const (
	TypeParagraph = "paragraph"
	TypeHeader    = "header"
	TypeList      = "list"
	TypeEdito     = "edito"
	TypeNotice    = "notice"
	TypeArticle   = "article"
	TypeTimeline  = "timeline"
	TypeQA        = "qa"
	TypeImage     = "image"
	TypeButton    = "button"
	TypeSource    = "source"
)

// DocBlock is one Editor.js block. Data holds the fields of every type;
// each type reads and writes only its own (MarshalJSON writes exactly the
// shape the browser's tool expects).
type DocBlock struct {
	ID   string    `json:"id,omitempty"`
	Type string    `json:"type"`
	Data BlockData `json:"data"`
}

// BlockData is the union of the blocks' data. Text and list items are
// inline HTML (<b>, <i>, <a href>, <br>); every other string, the image's
// caption and the button's label included, is plain text.
type BlockData struct {
	Text      string     `json:"text,omitempty"`
	Level     int        `json:"level,omitempty"`
	Style     string     `json:"style,omitempty"`
	Items     []ListItem `json:"items,omitempty"`
	Title     string     `json:"title,omitempty"`
	Signature string     `json:"signature,omitempty"`
	Role      string     `json:"role,omitempty"`
	Author    string     `json:"author,omitempty"`
	Body      *Blocks    `json:"body,omitempty"`
	Entries   []DocEntry `json:"entries,omitempty"`
	Src       string     `json:"src,omitempty"`
	Alt       string     `json:"alt,omitempty"`
	Link      string     `json:"link,omitempty"`
	Width     Int        `json:"width,omitempty"`
	Caption   string     `json:"caption,omitempty"`
	Href      string     `json:"href,omitempty"`
	Label     string     `json:"label,omitempty"`
}

// DocEntry is one step of a timeline or one question of a qa card.
type DocEntry struct {
	Heading string `json:"heading"`
	Body    Blocks `json:"body"`
}

// ListItem is one item of a list block, in the shape of @editorjs/list
// 2.x ({"content", "meta", "items"}); UnmarshalJSON also takes the plain
// strings of list 1.x.
type ListItem struct {
	Content string
	Items   []ListItem
}

// MarshalJSON writes the item as @editorjs/list 2.x does.
func (it ListItem) MarshalJSON() ([]byte, error) {
	items := it.Items
	if items == nil {
		items = []ListItem{}
	}
	return json.Marshal(struct {
		Content string         `json:"content"`
		Meta    map[string]any `json:"meta"`
		Items   []ListItem     `json:"items"`
	}{it.Content, map[string]any{}, items})
}

// UnmarshalJSON reads a 2.x item object or a 1.x string.
func (it *ListItem) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*it = ListItem{Content: s}
		return nil
	}
	var o struct {
		Content string     `json:"content"`
		Items   []ListItem `json:"items"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("list item: %w", err)
	}
	*it = ListItem{Content: o.Content, Items: o.Items}
	return nil
}

// Int is a whole number the browser may send as a number or as the text
// of a form field. It keeps the text as typed, so that "dix" reaches the
// parser, whose error then names the field, rather than failing the JSON.
type Int string

// MarshalJSON writes a number, or a string when the text is not one.
func (n Int) MarshalJSON() ([]byte, error) {
	if n == "" {
		return []byte("0"), nil
	}
	if _, err := strconv.Atoi(string(n)); err == nil {
		return []byte(n), nil
	}
	return json.Marshal(string(n))
}

// UnmarshalJSON reads a number, a string or null.
func (n *Int) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = Int(strings.TrimSpace(s))
		return nil
	}
	var f json.Number
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("want a number: %w", err)
	}
	*n = Int(f.String())
	return nil
}

// zero reports whether the number is absent or 0, which the file leaves out.
func (n Int) zero() bool { return n == "" || n == "0" }

// MarshalJSON writes the data of the block's type only, with every field
// of that type present, as the browser's tool expects it.
func (b DocBlock) MarshalJSON() ([]byte, error) {
	d := b.Data
	body := func(bs *Blocks) Blocks {
		if bs == nil || bs.Blocks == nil {
			return Blocks{Blocks: []DocBlock{}}
		}
		return *bs
	}
	var data any
	switch b.Type {
	case TypeParagraph, TypeSource:
		data = map[string]any{"text": d.Text}
	case TypeHeader:
		data = map[string]any{"text": d.Text, "level": d.Level}
	case TypeList:
		items := d.Items
		if items == nil {
			items = []ListItem{}
		}
		data = map[string]any{"style": d.Style, "meta": map[string]any{}, "items": items}
	case TypeEdito:
		data = map[string]any{"title": d.Title, "signature": d.Signature, "role": d.Role, "body": body(d.Body)}
	case TypeNotice:
		data = map[string]any{"title": d.Title, "body": body(d.Body)}
	case TypeArticle:
		data = map[string]any{"title": d.Title, "author": d.Author, "body": body(d.Body)}
	case TypeTimeline, TypeQA:
		entries := d.Entries
		if entries == nil {
			entries = []DocEntry{}
		}
		for i := range entries {
			entries[i].Body = body(&entries[i].Body)
		}
		data = map[string]any{"title": d.Title, "entries": entries}
	case TypeImage:
		data = map[string]any{"src": d.Src, "alt": d.Alt, "link": d.Link, "width": d.Width, "caption": d.Caption}
	case TypeButton:
		data = map[string]any{"href": d.Href, "label": d.Label}
	default:
		return nil, fmt.Errorf("edition: unknown block type %q", b.Type)
	}
	return json.Marshal(struct {
		ID   string `json:"id,omitempty"`
		Type string `json:"type"`
		Data any    `json:"data"`
	}{b.ID, b.Type, data})
}

// ParseDoc reads the editor's document as the browser posts it.
func ParseDoc(b []byte) (*Doc, error) {
	var d Doc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("editor document: %w", err)
	}
	return &d, nil
}

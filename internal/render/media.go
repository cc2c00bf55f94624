package render

import (
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"bulletin/internal/edition"
)

// LocalImages returns the files next to edition ed that it shows as images
// (image blocks and Markdown images), each once, as slash-separated paths
// inside its folder (edition.CleanLocal). They are the only files of the
// folder the daemon publishes: drafts, scans and papers left beside the
// edition stay private. Links to local files are not counted, since Check
// refuses them (a mail client cannot follow them).
func LocalImages(ed *edition.Edition) []string {
	var files []string
	seen := map[string]bool{}
	add := func(src string) {
		if p, err := edition.CleanLocal(src); err == nil && !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	md := newMarkdown()
	markdown := func(s string) {
		if s == "" {
			return
		}
		src := []byte(s)
		_ = ast.Walk(md.Parser().Parse(text.NewReader(src)), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if img, ok := n.(*ast.Image); ok && entering {
				add(string(img.Destination))
			}
			return ast.WalkContinue, nil
		})
	}
	ed.Walk(func(b *edition.Block) {
		if b.Kind == edition.Image {
			add(b.Src)
		}
		markdown(b.Text)
		for _, e := range b.Entries {
			markdown(e.Text)
		}
	})
	return files
}

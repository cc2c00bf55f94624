package edition

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeFormatParses keeps the format summary in the example's README
// true: its sample edition must parse, with every kind of block.
func TestReadmeFormatParses(t *testing.T) {
	readme, err := os.ReadFile("../../docs/examples/2020-edition-10-ans/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## The format in short\n\n```\n")
	if !ok {
		t.Fatal("README has no format sample")
	}
	sample, _, _ := strings.Cut(rest, "```\n")
	ed, err := Parse("README.md", []byte(sample))
	if err != nil {
		t.Fatalf("README sample: %v", err)
	}
	seen := map[Kind]bool{}
	ed.Walk(func(b *Block) { seen[b.Kind] = true })
	for _, k := range []Kind{Markdown, Section, Edito, Notice, Article, Timeline, Image, QA, Button} {
		if !seen[k] {
			t.Errorf("README sample has no %s block", k)
		}
	}
}

package edition

import (
	"errors"
	"testing"

	"bulletin/internal/i18n"
)

// Parse errors carry catalogue keys: the console says them in French with
// their place, "bulletin edition check" in English.
func TestParseErrorsInBothLanguages(t *testing.T) {
	src := "---\ntitle: Lettre\nsubject: Objet\ndate: 2020-03-25\nauteur: moi\n---\n\n::: encadre\ntexte\n:::\n"
	_, err := Parse("lettre.md", []byte(src))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Parse = %v, want two errors", err)
	}
	fr := i18n.New("fr")
	for i, w := range []struct{ key, fr, en string }{
		{"edition.err.front_unknown", "lettre.md:5\u00a0: en-tête\u00a0: clé «\u00a0auteur\u00a0» inconnue (acceptées\u00a0: title, number, quarter, date, subject, preheader, lists, slug)",
			`lettre.md:5: front matter: unknown key "auteur" (accepted: title, number, quarter, date, subject, preheader, lists, slug)`},
		{"edition.err.unknown_block", "lettre.md:8\u00a0: bloc «\u00a0encadre\u00a0» inconnu (blocs\u00a0: edito, notice, article, timeline, image, qa, button)",
			`lettre.md:8: unknown block "encadre" (blocks: edito, notice, article, timeline, image, qa, button)`},
	} {
		e := list[i]
		if e.Msg.Key != w.key || fr.Msg(e.Message()) != w.fr || e.Error() != w.en {
			t.Errorf("error %d = %s: %q in French, %q in English; want %s, %q, %q", i, e.Msg.Key, fr.Msg(e.Message()), e.Error(), w.key, w.fr, w.en)
		}
	}
}

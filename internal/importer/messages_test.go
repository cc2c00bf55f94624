package importer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

// Rejected and suppressed rows, the column mapping and a file that cannot
// be read carry catalogue keys: the console shows them in French, the CLI
// in English.
func TestImportMessagesInBothLanguages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateList(ctx, &store.List{Name: "Partenaires"}); err != nil {
		t.Fatal(err)
	}
	csv := "Email;Prénom;EMAIL_BLACKLISTED\n" +
		"jean.example.org;Jean;non\n" +
		"marie@example.org;Marie;oui\n" +
		"paul@example.org;Paul;non\n" +
		"Paul@example.org;Paul;non\n"
	rep, err := Import(ctx, st, strings.NewReader(csv), "contacts.csv", Options{List: "Partenaires"})
	if err != nil {
		t.Fatal(err)
	}
	fr := i18n.New("fr")
	for _, c := range []struct {
		got    i18n.Message
		key    string
		fr, en string
	}{
		{rep.Rejects[0].Reason, "address.invalid", "adresse invalide \"jean.example.org\"\u00a0: il manque le @", `invalid address "jean.example.org": missing @`},
		{rep.Rejects[1].Reason, "import.reject.duplicate", "Paul@example.org figure déjà ligne 4", "Paul@example.org already appears on line 4"},
		{rep.SuppressedRows[0].Reason, "import.suppressed.added", "marie@example.org\u00a0: ajoutée comme désabonnée, ainsi que l’indique le fichier", "marie@example.org: added as unsubscribed, as the file says"},
		{rep.Columns[2].Mapping(), "import.column.named", "EMAIL_BLACKLISTED → indicateur «\u00a0désabonnée\u00a0»", "EMAIL_BLACKLISTED → unsubscribed flag"},
	} {
		if c.got.Key != c.key || fr.Msg(c.got) != c.fr || c.got.String() != c.en {
			t.Errorf("%s = %q in French, %q in English; want %s, %q, %q", c.got.Key, fr.Msg(c.got), c.got.String(), c.key, c.fr, c.en)
		}
	}

	_, err = Import(ctx, st, strings.NewReader("Prénom;Nom\nJean;Martin\n"), "noms.csv", Options{List: "Partenaires"})
	if got, want := fr.Err(err), "noms.csv:1\u00a0: aucune colonne d’adresse e-mail parmi les en-têtes \"Prénom\", \"Nom\"\u00a0: nommez la colonne des adresses «\u00a0email\u00a0», «\u00a0e-mail\u00a0» ou «\u00a0courriel\u00a0»"; got != want {
		t.Errorf("French file error = %q, want %q", got, want)
	}
	if got, want := err.Error(), `noms.csv:1: no e-mail column among the headers "Prénom", "Nom": name the address column "email", "e-mail" or "courriel"`; got != want {
		t.Errorf("English file error = %q, want %q", got, want)
	}
}

package importer

import (
	"strings"
	"testing"
	"time"
)

func TestFold(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Adresse e-mail", "adresseemail"},
		{"ADRESSE_EMAIL", "adresseemail"},
		{"  adresse  email ", "adresseemail"},
		{"Prénom", "prenom"},
		{"PRÉNOM", "prenom"},
		{"Pre\u0301nom", "prenom"}, // decomposed é (NFD), as macOS writes file names
		{"Désabonné(e)", "desabonnee"},
		{"Date d’inscription", "datedinscription"}, // typographic apostrophe
		{"Société", "societe"},
		{"Œuvre", "oeuvre"},
		{"Cœur", "coeur"},
		{"Straße", "strasse"},
		{"EMAIL_BLACKLISTED", "emailblacklisted"},
		{"DOUBLE_OPT-IN", "doubleoptin"},
		{"E-mail*", "email"},
		{"\u00a0Nom\u00a0", "nom"},
		{"Ｅｍａｉｌ", "email"}, // full-width, decomposes to ASCII
		{"Ελληνικά", "ελληνικα"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := fold(tt.in); got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHeaderGroupsHaveNoDuplicates(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, g := range headerGroups {
		for _, n := range g.names {
			if seen[n] {
				t.Errorf("header %q is listed twice", n)
			}
			if fold(n) != n {
				t.Errorf("header %q is not folded: fold gives %q", n, fold(n))
			}
			seen[n] = true
		}
	}
}

func TestMapColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   string // Describe()
	}{
		{"email", "email"}, {"E-mail", "email"}, {"e mail", "email"}, {"Mail", "email"},
		{"Courriel", "email"}, {"Adresse email", "email"}, {"Adresse e-mail", "email"},
		{"ADRESSE_MAIL", "email"}, {"Adresse électronique", "email"}, {"Email Address", "email"},
		{"First name", "first name"}, {"firstname", "first name"}, {"Prénom", "first name"},
		{"PRENOM", "first name"}, {"FIRSTNAME", "first name"},
		{"Last name", "last name"}, {"lastname", "last name"}, {"Nom", "last name"},
		{"Nom de famille", "last name"}, {"NOM", "last name"}, {"LASTNAME", "last name"},
		{"Organisation", "organisation"}, {"organization", "organisation"},
		{"Structure", "organisation"}, {"Société", "organisation"}, {"Entreprise", "organisation"},
		{"Company", "organisation"},
		{"status", "status"}, {"Statut", "status"}, {"État", "status"},
		{"ADDED_TIME", "consent date"}, {"Date d'inscription", "consent date"},
		{"Date", "consent date"}, {"created", "consent date"}, {"subscribed_at", "consent date"},
		{"EMAIL_BLACKLISTED", "unsubscribed flag"}, {"BLACKLISTED", "unsubscribed flag"},
		{"unsubscribed", "unsubscribed flag"}, {"Désinscrit", "unsubscribed flag"},
		{"Désabonné", "unsubscribed flag"}, {"opt-out", "unsubscribed flag"}, {"optout", "unsubscribed flag"},
		{"bounced", "bounced flag"}, {"hard_bounce", "bounced flag"}, {"NPAI", "bounced flag"},
		{"complained", "complained flag"}, {"Plainte", "complained flag"},
		{"Abonné", "subscription flag (yes = active, no = unsubscribed)"},
		{"SMS_BLACKLISTED", "ignored"}, {"MODIFIED_TIME", "ignored"},
		{"SMS", `attribute "SMS"`}, {"LIST_IDS", `attribute "LIST_IDS"`},
		{"OPT_IN", `attribute "OPT_IN"`}, {"DOUBLE_OPT-IN", `attribute "DOUBLE_OPT-IN"`},
		{"Email 2", `attribute "Email 2"`}, {"name", `attribute "name"`},
		{" Téléphone ", `attribute "Téléphone"`},
	}
	for _, tt := range tests {
		// Put the header next to an e-mail column so that every file is valid.
		other := "courriel"
		if fold(tt.header) == "courriel" {
			other = "x"
		}
		cols, err := mapColumns([]string{other, tt.header})
		if tt.want == "email" {
			cols, err = mapColumns([]string{tt.header})
			if err != nil {
				t.Errorf("mapColumns(%q) error %v", tt.header, err)
				continue
			}
			if got := cols[0].Describe(); got != tt.want {
				t.Errorf("mapColumns(%q) = %q, want %q", tt.header, got, tt.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("mapColumns(%q) error %v", tt.header, err)
			continue
		}
		if got := cols[1].Describe(); got != tt.want {
			t.Errorf("mapColumns(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestColumnString(t *testing.T) {
	t.Parallel()
	cols, err := mapColumns([]string{"EMAIL", "PRENOM", "EMAIL_BLACKLISTED", "", "Abonné"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		got = append(got, c.String())
	}
	want := []string{
		"EMAIL → email",
		"PRENOM → first name",
		"EMAIL_BLACKLISTED → unsubscribed flag",
		`(column 4) → attribute "column 4"`,
		"Abonné → subscription flag (yes = active, no = unsubscribed)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Column.String() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := Role(99).String(); got != "Role(99)" {
		t.Errorf("Role(99).String() = %q, want %q", got, "Role(99)")
	}
}

func TestStatusWords(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"active", StatusActive}, {"Actif", StatusActive}, {"abonné", StatusActive},
		{"Abonnée", StatusActive}, {"subscribed", StatusActive}, {"soft bounce", StatusActive},
		{"unsubscribed", StatusUnsubscribed}, {"Désabonné", StatusUnsubscribed},
		{"désinscrit(e)", StatusUnsubscribed}, {"blacklisted", StatusUnsubscribed},
		{"Blacklisté", StatusUnsubscribed}, {"opt-out", StatusUnsubscribed}, {"OPT OUT", StatusUnsubscribed},
		{"bounced", StatusBounced}, {"Rejeté", StatusBounced}, {"hard bounce", StatusBounced},
		{"Hard-Bounce", StatusBounced}, {"invalide", StatusBounced},
		{"complained", StatusComplained}, {"plainte", StatusComplained}, {"SPAM", StatusComplained},
	}
	for _, tt := range tests {
		if got := statusWords[fold(tt.in)]; got != tt.want {
			t.Errorf("status %q = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{"yes", "en attente", "pending", "unconfirmed"} {
		if got, ok := statusWords[fold(in)]; ok {
			t.Errorf("status %q = %q, want unknown", in, got)
		}
	}
}

func TestFlagWords(t *testing.T) {
	t.Parallel()
	yes := []string{"yes", "Yes", "YES", "y", "oui", "Oui", "o", "true", "TRUE", "vrai", "VRAI", "1", "x", "X"}
	no := []string{"no", "No", "n", "non", "NON", "false", "False", "faux", "FAUX", "0", ""}
	for _, v := range yes {
		if got, ok := flagWords[fold(v)]; !ok || !got {
			t.Errorf("flag %q = %v, %v, want true", v, got, ok)
		}
	}
	for _, v := range no {
		if got, ok := flagWords[fold(v)]; !ok || got {
			t.Errorf("flag %q = %v, %v, want false", v, got, ok)
		}
	}
	for _, v := range []string{"peut-être", "2", "unknown"} {
		if _, ok := flagWords[fold(v)]; ok {
			t.Errorf("flag %q is known, want unknown", v)
		}
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2019-03-14 10:21:05", time.Date(2019, 3, 14, 10, 21, 5, 0, loc)}, // SendinBlue
		{"2019-03-14 10:21:05.250", time.Date(2019, 3, 14, 10, 21, 5, 250e6, loc)},
		{"2019-03-14 10:21", time.Date(2019, 3, 14, 10, 21, 0, 0, loc)},
		{"2019-03-14", time.Date(2019, 3, 14, 0, 0, 0, 0, loc)},
		{"2019-03-14T10:21:05Z", time.Date(2019, 3, 14, 10, 21, 5, 0, time.UTC)},
		{"2019-03-14T10:21:05.123+02:00", time.Date(2019, 3, 14, 8, 21, 5, 123e6, time.UTC)},
		{"2019-03-14T10:21:05", time.Date(2019, 3, 14, 10, 21, 5, 0, loc)},
		{"2019-03-14T10:21", time.Date(2019, 3, 14, 10, 21, 0, 0, loc)},
		{"2019-03-14 10:21:05+01:00", time.Date(2019, 3, 14, 9, 21, 5, 0, time.UTC)},
		{"2019-03-14 10:21:05 +0100", time.Date(2019, 3, 14, 9, 21, 5, 0, time.UTC)},
		{"14/03/2019", time.Date(2019, 3, 14, 0, 0, 0, 0, loc)},
		{"4/3/2019", time.Date(2019, 3, 4, 0, 0, 0, 0, loc)},
		{"14/03/2019 10:21", time.Date(2019, 3, 14, 10, 21, 0, 0, loc)},
		{"14/03/2019 10:21:05", time.Date(2019, 3, 14, 10, 21, 5, 0, loc)},
		{"14-03-2019", time.Date(2019, 3, 14, 0, 0, 0, 0, loc)},
		{"14.03.2019", time.Date(2019, 3, 14, 0, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in, loc)
		if !ok || !got.Equal(tt.want) {
			t.Errorf("parseDate(%q) = %v, %v, want %v", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"03/14/2019", "2019-13-01", "14/03/19", "hier", "43538", "2019/03/14", "14 mars 2019"} {
		if got, ok := parseDate(in, loc); ok {
			t.Errorf("parseDate(%q) = %v, true, want not a date", in, got)
		}
	}
}
